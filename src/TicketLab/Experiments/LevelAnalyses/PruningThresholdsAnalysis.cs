using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Lottery;
using TicketLab.Reporting;
using static TorchSharp.torch;

namespace TicketLab.Experiments.LevelAnalyses;

/// <summary>
/// What pruning to a level removed from one tensor (or, as <c>global</c>, from every tensor that lost
/// weights): how many weights, the largest |w| among them (the threshold) and the smallest |w| among
/// the survivors, both in level L-1's trained weights. Null where there is none.
/// </summary>
public sealed record PruningThreshold(string Tensor, long Pruned, long Survivors, double? PrunedMaxAbs, double? SurvivorMinAbs)
{
    public const string Global = "global";

    public JsonObject ToJson() => new()
    {
        ["tensor"] = Tensor, ["pruned"] = Pruned, ["survivors"] = Survivors, ["pruned_max_abs"] = PrunedMaxAbs, ["survivor_min_abs"] = SurvivorMinAbs,
    };

    public static PruningThreshold FromJson(JsonNode json) => new((string)json["tensor"]!, (long)json["pruned"]!, (long)json["survivors"]!,
        (double?)json["pruned_max_abs"], (double?)json["survivor_min_abs"]);
}

public sealed record PruningThresholds(double Density, PruningThreshold Global, IReadOnlyList<PruningThreshold> Tensors) : IStoredResult<PruningThresholds>
{
    public JsonObject ToJson() => new()
    {
        ["density"] = Density, ["global"] = Global.ToJson(), ["tensors"] = new JsonArray(Tensors.Select(t => (JsonNode)t.ToJson()).ToArray()),
    };

    public static PruningThresholds FromJson(JsonNode json) => new((double)json["density"]!, PruningThreshold.FromJson(json["global"]!),
        json["tensors"]!.AsArray().Select(t => PruningThreshold.FromJson(t!)).ToArray());
}

/// <summary>
/// <c>pruning_thresholds</c> (Maene et al. 2021, Fig. 6): the magnitude below which IMP pruned level
/// L-1's trained weights to make level L's mask. Under global magnitude pruning every pruned |w| is at
/// most the threshold and every survivor's above it; under per-tensor rates each tensor has its own.
/// </summary>
public sealed class PruningThresholdsAnalysis : LevelAnalysis<NoHparams, PruningThresholds>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "pruning_thresholds";
    public override string Description => "The magnitude below which IMP pruned the previous round's trained weights, per tensor and over all (Maene et al. 2021, Fig. 6)";
    public override int FirstLevel => 1;

    protected override PruningThresholds Analyze(LevelAnalysisJob job, NoHparams hparams)
    {
        using var before = LotteryRunner.MaskOf(job.Layout, job.Level - 1, job.Lottery, job.Context);
        using var after = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        var trained = job.Layout.Main(job.Level - 1).LoadTensors(job.Layout.Main(job.Level - 1).FinalModelPath);
        try
        {
            using var scope = NewDisposeScope();
            var pruned = new Dictionary<string, Tensor>();
            var survivors = new Dictionary<string, Tensor>();
            foreach (var name in after.Names)
            {
                var magnitude = trained[name].detach().cpu().to_type(ScalarType.Float64).abs().flatten();
                var kept = after[name].flatten().to_type(ScalarType.Bool);
                pruned[name] = magnitude.masked_select(before[name].flatten().to_type(ScalarType.Bool).logical_and(kept.logical_not()));
                survivors[name] = magnitude.masked_select(kept);
            }
            var tensors = after.Names.Order(StringComparer.Ordinal).Select(n => Threshold(n, pruned[n], survivors[n])).ToArray();
            var losing = tensors.Where(t => t.Pruned > 0).Select(t => t.Tensor).ToArray();
            var global = losing.Length == 0 ? new PruningThreshold(PruningThreshold.Global, 0, after.RemainingWeights, null, null)
                : Threshold(PruningThreshold.Global, cat(losing.Select(n => pruned[n]).ToArray()), cat(losing.Select(n => survivors[n]).ToArray()));
            return new PruningThresholds(after.Density, global, tensors);
        }
        finally
        {
            foreach (var t in trained.Values) t.Dispose();
        }
    }

    private static PruningThreshold Threshold(string name, Tensor pruned, Tensor survivors) => new(name, pruned.numel(), survivors.numel(),
        pruned.numel() > 0 ? pruned.max().item<double>() : null, survivors.numel() > 0 ? survivors.min().item<double>() : null);

    private static string F(double? value) => value?.ToString("G6", Invariant) ?? "-";

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<PruningThresholds>> results, NoHparams hparams) =>
    [
        new ReportTable("Pruning thresholds: the largest |w| pruned from level L-1's trained weights to make level L, and the smallest surviving |w| (global: over the tensors that lost weights)",
            ["replicate", "level", "% remaining", "tensor", "pruned", "survivors", "largest pruned |w|", "smallest surviving |w|"],
            results.SelectMany(r => r.Result.Tensors.Prepend(r.Result.Global).Select(t => (IReadOnlyList<string>)[
                r.Replicate.ToString(Invariant), r.Level.ToString(Invariant), (100 * r.Result.Density).ToString("F1", Invariant), t.Tensor,
                t.Pruned.ToString(Invariant), t.Survivors.ToString(Invariant), F(t.PrunedMaxAbs), F(t.SurvivorMinAbs)])).ToArray()),
    ];

    protected override IReadOnlyList<Figure> Draw(IReadOnlyList<LevelResult<PruningThresholds>> results, NoHparams hparams)
    {
        var byLevel = results.GroupBy(r => r.Level).OrderBy(g => g.Key).ToArray();
        Series Over(string label, Func<PruningThresholds, PruningThreshold> pick, bool dashed = false)
        {
            var points = byLevel.Select(g => (X: (double)g.Key, Values: g.Select(r => pick(r.Result).PrunedMaxAbs).OfType<double>().ToArray())).Where(p => p.Values.Length > 0).ToArray();
            return Series.OverReplicates(label, points, dashed);
        }
        var tensors = results[0].Result.Tensors.Select(t => t.Tensor).ToArray();
        var levels = byLevel.Select(g => (double)g.Key).ToArray();
        return
        [
            new Figure("threshold", "Pruning threshold per round: the largest |w| pruned (over all tensors that lost weights)", "round (level)", "pruning threshold |w|",
                [Over("global", r => r.Global), .. tensors.Select(n => Over(n, r => r.Tensors.First(t => t.Tensor == n), dashed: true)).Where(s => s.X.Count > 0)])
            { XTicks = levels, XColumn = "level", YColumn = "threshold" },
        ];
    }
}
