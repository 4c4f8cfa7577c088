using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Pruning;
using TicketLab.Reporting;
using static TorchSharp.torch;

namespace TicketLab.Experiments.LevelAnalyses;

public sealed record WeightHistogramsHparams : IHparams
{
    [Hparam("Networks to cover: all (IMP and every branch finished at the level), or a list of main, branch names (random_reinit) and branch folders.")]
    public string Networks { get; init; } = LotteryNetworks.All;

    [Hparam("Number of bins, of equal width, between -range and range.")]
    public int Bins { get; init; } = 100;

    [Hparam("The bins span [-range, range]; weights outside are counted apart (below, above).")]
    public double Range { get; init; } = 0.5;

    [Hparam("Also histogram each network's weights at its start (the rewind step), over the same mask.")]
    public bool AtRewind { get; init; }

    public void Validate()
    {
        LotteryNetworks.Parse(Networks);
        if (Bins < 1) throw new HparamException("--bins", $"must be at least 1, got {Bins}.");
        if (!(Range > 0) || double.IsInfinity(Range)) throw new HparamException("--range", $"must be a positive finite number, got {Range}.");
    }
}

/// <summary>
/// The surviving prunable weights of one network at a level (<see cref="State"/>: <c>trained</c>, or
/// <c>rewind</c> for its start), counted in equal bins over [<see cref="Low"/>, <see cref="High"/>]; those
/// outside in <see cref="Below"/> and <see cref="Above"/>, so the counts add up to <see cref="Surviving"/>.
/// </summary>
public sealed record WeightHistogram(string Network, string State, double Low, double High, long Below, long Above, IReadOnlyList<long> Counts)
{
    public const string Trained = "trained", Rewind = "rewind";
    public long Surviving => Below + Above + Counts.Sum();
    public double Width => (High - Low) / Counts.Count;
    public double Centre(int bin) => Low + (bin + 0.5) * Width;

    /// <summary>Counts the values of <paramref name="weights"/> that <paramref name="mask"/> keeps (prunable tensors only).</summary>
    public static WeightHistogram Of(string network, string state, IReadOnlyDictionary<string, Tensor> weights, Mask mask, int bins, double range)
    {
        using var scope = NewDisposeScope();
        var values = cat(mask.Names.Select(n => weights[n].detach().cpu().to_type(ScalarType.Float64).flatten()
            .masked_select(mask[n].flatten().to_type(ScalarType.Bool))).ToArray());
        long below = values.lt(-range).sum().item<long>(), above = values.gt(range).sum().item<long>();
        // Bins [low + i w, low + (i+1) w), the last one closed: a weight of exactly +range counts in it.
        var inside = values.masked_select(values.ge(-range).logical_and(values.le(range)));
        var bin = ((inside + range) / (2 * range / bins)).floor().clamp(0, bins - 1).to_type(ScalarType.Int64);
        var counts = bin.bincount(null, bins).data<long>().ToArray();
        return new WeightHistogram(network, state, -range, range, below, above, counts);
    }
}

public sealed record WeightHistograms(IReadOnlyList<WeightHistogram> Histograms) : IStoredResult<WeightHistograms>
{
    public JsonObject ToJson() => new()
    {
        ["histograms"] = new JsonArray(Histograms.Select(h => (JsonNode)new JsonObject
        {
            ["network"] = h.Network, ["state"] = h.State, ["low"] = h.Low, ["high"] = h.High, ["below"] = h.Below, ["above"] = h.Above,
            ["surviving"] = h.Surviving, ["counts"] = new JsonArray(h.Counts.Select(c => (JsonNode)c).ToArray()),
        }).ToArray()),
    };

    public static WeightHistograms FromJson(JsonNode json) => new(json["histograms"]!.AsArray().Select(h => new WeightHistogram(
        (string)h!["network"]!, (string)h["state"]!, (double)h["low"]!, (double)h["high"]!, (long)h["below"]!, (long)h["above"]!,
        h["counts"]!.AsArray().Select(c => (long)c!).ToArray())).ToArray());
}

/// <summary>
/// <c>weight_histograms</c> (Maene et al. 2021, Fig. 5, 7, 19, 22): histograms of the surviving trained
/// weights of IMP and each branch at a level (the paper compares IMP and re-initialization after 10 rounds),
/// in fixed bins so that levels and networks compare; optionally of the weights they started from.
/// </summary>
public sealed class WeightHistogramsAnalysis : LevelAnalysis<WeightHistogramsHparams, WeightHistograms>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    /// <summary>The report draws at most this many levels, evenly spread, the last included.</summary>
    public const int FigureLevels = 6;

    public override string Name => "weight_histograms";
    public override string Description => "Histograms of the surviving trained weights of IMP and each branch at a level (Maene et al. 2021, Fig. 5)";

    protected override bool IsCurrent(WeightHistograms stored, LevelAnalysisJob job, WeightHistogramsHparams hparams) =>
        stored.Histograms.Select(h => h.Network).Distinct().SequenceEqual(new LotteryNetworks(job.Layout, hparams.Networks).At(job.Level));

    protected override WeightHistograms Analyze(LevelAnalysisJob job, WeightHistogramsHparams hparams)
    {
        var networks = new LotteryNetworks(job.Layout, hparams.Networks);
        var start = job.Lottery.Lottery.RewindStep.ToStep(LotteryRunner.IterationsPerEpoch(job.Lottery.Training, job.Context));
        var histograms = new List<WeightHistogram>();
        foreach (var id in networks.At(job.Level))
        {
            var network = networks.Find(id, job.Level)!;
            using var mask = network.LoadMask();
            foreach (var (state, load) in new (string, Func<Dictionary<string, Tensor>>)[] { (WeightHistogram.Trained, network.LoadTrained), (WeightHistogram.Rewind, () => network.LoadInitial(start)) })
            {
                if (state == WeightHistogram.Rewind && !hparams.AtRewind) continue;
                var weights = load();
                try { histograms.Add(WeightHistogram.Of(id, state, weights, mask, hparams.Bins, hparams.Range)); }
                finally { foreach (var t in weights.Values) t.Dispose(); }
            }
        }
        return new WeightHistograms(histograms);
    }

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<WeightHistograms>> results, WeightHistogramsHparams hparams) =>
    [
        new ReportTable($"Weight histograms: surviving prunable weights in {hparams.Bins} bins over [-{hparams.Range.ToString(Invariant)}, {hparams.Range.ToString(Invariant)}] (counts per bin in the figures' CSV)",
            ["replicate", "level", "network", "state", "surviving", "below range", "above range", "mean |w| in range"],
            results.SelectMany(r => r.Result.Histograms.Select(h => (IReadOnlyList<string>)[
                r.Replicate.ToString(Invariant), r.Level.ToString(Invariant), h.Network, h.State, h.Surviving.ToString(Invariant),
                h.Below.ToString(Invariant), h.Above.ToString(Invariant),
                (h.Counts.Select((c, i) => c * Math.Abs(h.Centre(i))).Sum() / Math.Max(1, h.Counts.Sum())).ToString("G4", Invariant)])).ToArray()),
    ];

    protected override IReadOnlyList<Figure> Draw(IReadOnlyList<LevelResult<WeightHistograms>> results, WeightHistogramsHparams hparams)
    {
        var levels = results.Select(r => r.Level).Distinct().Order().ToArray();
        var shown = levels.Length <= FigureLevels ? levels
            : Enumerable.Range(0, FigureLevels).Select(i => levels[(int)Math.Round(i * (levels.Length - 1) / (double)(FigureLevels - 1))]).Distinct().ToArray();
        var ids = results.SelectMany(r => r.Result.Histograms.Select(h => h.Network)).Distinct().ToArray();
        return shown.Select(level =>
        {
            var histograms = results.Where(r => r.Level == level).SelectMany(r => r.Result.Histograms).ToArray();
            int replicates = results.Count(r => r.Level == level);
            var series = histograms.GroupBy(h => (h.Network, h.State)).OrderBy(g => g.Key.State == WeightHistogram.Trained ? 0 : 1)
                .ThenBy(g => g.Key.Network == LotteryNetworks.Main ? "" : g.Key.Network, StringComparer.Ordinal).Select(g =>
                {
                    var first = g.First();
                    string label = (g.Key.Network == LotteryNetworks.Main ? "IMP" : LotteryNetworks.Label(g.Key.Network, ids)) + (g.Key.State == WeightHistogram.Rewind ? " at rewind" : "");
                    return new Series(label, first.Counts.Select((_, i) => first.Centre(i)).ToArray(),
                        first.Counts.Select((_, i) => g.Average(h => (double)h.Counts[i])).ToArray(), Dashed: g.Key.State == WeightHistogram.Rewind);
                }).ToArray();
            return new Figure($"level_{level}", $"Surviving weights at level {level}" + (replicates > 1 ? $" (mean count of {replicates} replicates)" : ""),
                "weight", "weights per bin", series) { Steps = true, XColumn = "weight", YColumn = "count" };
        }).ToArray();
    }
}
