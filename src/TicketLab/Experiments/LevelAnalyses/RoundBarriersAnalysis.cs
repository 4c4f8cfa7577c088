using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;
using TorchSharp;

namespace TicketLab.Experiments.LevelAnalyses;

public sealed record RoundBarriersHparams : IHparams
{
    [Hparam("Networks to cover: all (IMP and every branch finished at the level), or a list of main, branch names (random_reinit) and branch folders.")]
    public string Networks { get; init; } = LotteryNetworks.All;

    /// <summary>20 points, as Maene et al. (2021) evaluate.</summary>
    [HparamGroup("", "interpolation between the two rounds' trained networks")]
    public InterpolationOptions Interpolation { get; init; } = new() { Points = 20 };

    public void Validate()
    {
        LotteryNetworks.Parse(Networks);
        Interpolation.Validate();
    }
}

/// <summary>The path from a network's trained weights at the level before to its trained weights at this level; <see cref="Density"/>: this level's.</summary>
public sealed record RoundBarrier(string Network, double Density, InterpolationCurve Curve);

public sealed record RoundBarriers(IReadOnlyList<RoundBarrier> Networks) : IStoredResult<RoundBarriers>
{
    public JsonObject ToJson() => new()
    {
        ["networks"] = new JsonArray(Networks.Select(n => (JsonNode)new JsonObject
        {
            ["network"] = n.Network, ["density"] = n.Density, ["curve"] = n.Curve.ToJson(),
        }).ToArray()),
    };

    public static RoundBarriers FromJson(JsonNode json) => new(json["networks"]!.AsArray().Select(n => new RoundBarrier(
        (string)n!["network"]!, (double)n["density"]!, InterpolationCurve.FromJson(n["curve"]!))).ToArray());
}

/// <summary>
/// <c>round_barriers</c> (Maene et al. 2021, Fig. 8, 20, 23): test error along the straight line between
/// a network trained at level L-1 and the same network trained at level L, for IMP and each branch (a
/// branch's level 0 is IMP's dense network). The endpoints are the trained networks as they are, each
/// zero outside its own mask: along the path the weights pruned at level L shrink linearly to zero.
/// </summary>
public sealed class RoundBarriersAnalysis : LevelAnalysis<RoundBarriersHparams, RoundBarriers>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    /// <summary>The path figure shows at most this many levels, evenly spread, the last included.</summary>
    public const int PathLevels = 6;

    public override string Name => "round_barriers";
    public override string Description => "Error along the line between the trained networks of successive rounds, and its barrier (Maene et al. 2021, Fig. 8)";
    public override int FirstLevel => 1;
    public override bool ReadsEarlierLevels => true;

    private static IEnumerable<string> Plan(LotteryNetworks networks, int level) => networks.At(level).Where(id => networks.Find(id, level - 1) is not null);

    protected override bool IsCurrent(RoundBarriers stored, LevelAnalysisJob job, RoundBarriersHparams hparams) =>
        stored.Networks.Select(n => n.Network).SequenceEqual(Plan(new LotteryNetworks(job.Layout, hparams.Networks), job.Level));

    protected override RoundBarriers Analyze(LevelAnalysisJob job, RoundBarriersHparams hparams)
    {
        var networks = new LotteryNetworks(job.Layout, hparams.Networks);
        var training = job.Lottery.Training;
        var (train, test) = job.Context.Data.Get(training.Dataset.DatasetName, training.Dataset.TrainSubset, job.Context.Device);
        using var model = LotteryRunner.Skeleton(training, job.Context);
        model.to(job.Context.Device);
        var barriers = new List<RoundBarrier>();
        foreach (var id in Plan(networks, job.Level))
        {
            var (before, after) = (networks.Find(id, job.Level - 1)!, networks.Find(id, job.Level)!);
            using var mask = after.LoadMask();
            var w0 = before.LoadTrained();
            var w1 = after.LoadTrained();
            try
            {
                barriers.Add(new RoundBarrier(id, mask.Density, Interpolation.Run(model, w0, w1, null, test, train, hparams.Interpolation)));
            }
            finally
            {
                foreach (var t in w0.Values.Concat(w1.Values)) t.Dispose();
            }
        }
        return new RoundBarriers(barriers);
    }

    private static string P(double value) => value.ToString("P2", Invariant);

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<RoundBarriers>> results, RoundBarriersHparams hparams) =>
    [
        new ReportTable($"Successive rounds: test error along the line from level L-1's trained network to level L's ({hparams.Interpolation.Points} points)",
            ["replicate", "level", "network", "% remaining", "error at L-1", "error at L", "error barrier", "rise above chord", "loss barrier"],
            results.SelectMany(r => r.Result.Networks.Select(n => (IReadOnlyList<string>)[
                r.Replicate.ToString(Invariant), r.Level.ToString(Invariant), n.Network, (100 * n.Density).ToString("F1", Invariant),
                P(n.Curve.Points[0].TestError), P(n.Curve.Points[^1].TestError), P(n.Curve.ErrorBarrier), P(n.Curve.ErrorExcessOverChord),
                n.Curve.LossBarrier.ToString("F4", Invariant)])).ToArray()),
    ];

    protected override IReadOnlyList<Figure> Draw(IReadOnlyList<LevelResult<RoundBarriers>> results, RoundBarriersHparams hparams)
    {
        var entries = results.SelectMany(r => r.Result.Networks.Select(n => (r.Replicate, r.Level, Barrier: n))).ToArray();
        var ids = entries.Select(e => e.Barrier.Network).Distinct().OrderBy(id => id == LotteryNetworks.Main ? "" : id, StringComparer.Ordinal).ToArray();
        string Label(string id) => id == LotteryNetworks.Main ? "IMP" : LotteryNetworks.Label(id, ids);
        var ticks = entries.Select(e => e.Barrier.Density).Distinct().OrderDescending().ToArray();
        Figure OverSparsity(string name, string title, string y, Func<InterpolationCurve, double> value) =>
            new(name, title, "weights remaining (%)", y, ids.Select(id =>
            {
                var byLevel = entries.Where(e => e.Barrier.Network == id).GroupBy(e => e.Level).OrderBy(g => g.Key);
                return Series.OverReplicates(Label(id), byLevel.Select(g => (g.Average(e => e.Barrier.Density), g.Select(e => value(e.Barrier.Curve)).ToArray())).ToArray(),
                    dashed: id != LotteryNetworks.Main);
            }).ToArray())
            {
                LogX = true, ReverseX = true, XPercent = true, YPercent = true, XTicks = ticks,
                XTickLabels = ticks.Select(t => (100 * t).ToString("G3", Invariant)).ToArray(), XColumn = "fraction_remaining",
            };
        var figures = new List<Figure>
        {
            OverSparsity("error_barrier", "Error barrier between successive rounds: max error on the path minus the mean of its ends", "error barrier (%)", c => c.ErrorBarrier),
            OverSparsity("rise_above_chord", "Rise above the chord between successive rounds: max of error minus the line between its ends", "rise above chord (%)", c => c.ErrorExcessOverChord),
        };
        foreach (var id in ids)
        {
            var levels = entries.Where(e => e.Barrier.Network == id).Select(e => e.Level).Distinct().Order().ToArray();
            var shown = levels.Length <= PathLevels ? levels
                : Enumerable.Range(0, PathLevels).Select(i => levels[(int)Math.Round(i * (levels.Length - 1) / (double)(PathLevels - 1))]).Distinct().ToArray();
            figures.Add(new Figure($"path_{id}", $"Test error from level L-1's trained network (0) to level L's (1), {Label(id)}", "interpolation coefficient", "test error (%)",
                shown.Select(level =>
                {
                    var curves = entries.Where(e => e.Barrier.Network == id && e.Level == level).Select(e => e.Barrier.Curve).ToArray();
                    var alphas = curves[0].Points.Select(p => p.Alpha).ToArray();
                    return Series.OverReplicates($"level {level - 1} to {level}", alphas.Select((alpha, i) => (alpha, curves.Select(c => c.Points[i].TestError).ToArray())).ToArray());
                }).ToArray())
            { YPercent = true, XColumn = "alpha" });
        }
        return figures;
    }
}
