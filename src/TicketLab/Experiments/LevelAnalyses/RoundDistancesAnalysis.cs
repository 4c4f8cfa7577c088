using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;

namespace TicketLab.Experiments.LevelAnalyses;

public sealed record RoundDistancesHparams : IHparams
{
    [Hparam("Networks to cover: all (IMP and every branch finished at the level), or a list of main, branch names (random_reinit) and branch folders.")]
    public string Networks { get; init; } = LotteryNetworks.All;

    public void Validate() => LotteryNetworks.Parse(Networks);
}

/// <summary>
/// The distance between a network trained at a level and the same network at an earlier level
/// (<see cref="OtherLevel"/>), or its own initialization (<see cref="OtherLevel"/> null), over the
/// weights both keep; <see cref="Compared"/> is their fraction of the prunable weights.
/// </summary>
public sealed record RoundDistance(string Network, int? OtherLevel, double Compared, WeightDistances Distances)
{
    public double CosineDistance => 1 - Distances.CosineSimilarity;
}

public sealed record RoundDistances(IReadOnlyList<RoundDistance> Pairs) : IStoredResult<RoundDistances>
{
    public JsonObject ToJson() => new()
    {
        ["pairs"] = new JsonArray(Pairs.Select(p => (JsonNode)new JsonObject
        {
            ["network"] = p.Network, ["other_level"] = p.OtherLevel, ["other"] = p.OtherLevel is null ? "init" : $"level_{p.OtherLevel}",
            ["fraction_compared"] = p.Compared, ["cosine_distance"] = p.CosineDistance, ["distances"] = p.Distances.ToJson(),
        }).ToArray()),
    };

    public static RoundDistances FromJson(JsonNode json) => new(json["pairs"]!.AsArray().Select(p => new RoundDistance(
        (string)p!["network"]!, (int?)p["other_level"], (double)p["fraction_compared"]!, WeightDistances.FromJson(p["distances"]!))).ToArray());
}

/// <summary>
/// <c>round_distances</c> (Maene et al. 2021, Fig. 4, 9-11, 15, 16, 18, 21): for each network of a level
/// (IMP and the branches), the distance of its trained weights to those of every earlier level and to its
/// own initialization, over the weights both keep. The report assembles the levels into a matrix per network
/// and measure: angular distance 2·angle/π, cosine distance 1 - cos and Euclidean distance.
/// </summary>
public sealed class RoundDistancesAnalysis : LevelAnalysis<RoundDistancesHparams, RoundDistances>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    public const string Init = "init";

    public override string Name => "round_distances";
    public override string Description => "Distances between the trained networks of all rounds, and to the initialization, over the weights both keep: angular, cosine and Euclidean (Maene et al. 2021, Fig. 4)";
    public override bool ReadsEarlierLevels => true;

    /// <summary>The pairs a level's result covers now: each network against its earlier levels that finished, and its initialization.</summary>
    private static IEnumerable<(string Network, int? Other)> Plan(LotteryNetworks networks, int level) =>
        networks.At(level).SelectMany(id => Enumerable.Range(0, level).Where(k => networks.Find(id, k) is not null).Select(k => (id, (int?)k)).Append((id, null)));

    protected override bool IsCurrent(RoundDistances stored, LevelAnalysisJob job, RoundDistancesHparams hparams) =>
        stored.Pairs.Select(p => (p.Network, p.OtherLevel)).SequenceEqual(Plan(new LotteryNetworks(job.Layout, hparams.Networks), job.Level));

    protected override RoundDistances Analyze(LevelAnalysisJob job, RoundDistancesHparams hparams)
    {
        var networks = new LotteryNetworks(job.Layout, hparams.Networks);
        var start = job.Lottery.Lottery.RewindStep.ToStep(LotteryRunner.IterationsPerEpoch(job.Lottery.Training, job.Context));
        var pairs = new List<RoundDistance>();
        foreach (var group in Plan(networks, job.Level).GroupBy(p => p.Network))
        {
            var network = networks.Find(group.Key, job.Level)!;
            using var mask = network.LoadMask();
            var trained = network.LoadTrained();
            try
            {
                foreach (var (_, other) in group)
                {
                    var reference = other is { } k ? networks.Find(group.Key, k)! : network;
                    using var otherMask = reference.LoadMask();
                    using var both = LotteryNetworks.Intersection(mask, otherMask);
                    var weights = other is null ? reference.LoadInitial(start) : reference.LoadTrained();
                    try { pairs.Add(new RoundDistance(group.Key, other, both.Density, WeightDistances.Compute(trained, weights, both))); }
                    finally { foreach (var t in weights.Values) t.Dispose(); }
                }
            }
            finally
            {
                foreach (var t in trained.Values) t.Dispose();
            }
        }
        return new RoundDistances(pairs);
    }

    private static string F(double value) => value.ToString("F4", Invariant);

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<RoundDistances>> results, RoundDistancesHparams hparams)
    {
        var rows = results.SelectMany(r => r.Result.Pairs.Select(p => (IReadOnlyList<string>)[
            r.Replicate.ToString(Invariant), r.Level.ToString(Invariant), p.Network, p.OtherLevel?.ToString(Invariant) ?? Init,
            (100 * p.Compared).ToString("F1", Invariant), F(p.Distances.AngularDistance), F(p.CosineDistance), F(p.Distances.L2Distance),
            F(p.Distances.NormalizedL2Distance)])).ToArray();
        return [new ReportTable("Distances between rounds: each network at a level against the same network at an earlier level, or its initialization, over the weights both keep",
            ["replicate", "level", "network", "other level", "% of weights compared", "angular distance", "cosine distance", "Euclidean distance", "Euclidean / other's norm"], rows) { Folded = true }];
    }

    /// <summary>The measures drawn as matrices: name, title, how a cell is printed.</summary>
    private static readonly (string Name, string Title, string Format, Func<RoundDistance, double> Value)[] Measures =
    [
        ("angular", "Angular distance 2·angle/π", "F2", p => p.Distances.AngularDistance),
        ("cosine", "Cosine distance 1 - cos", "F2", p => p.CosineDistance),
        ("euclidean", "Euclidean distance", "G3", p => p.Distances.L2Distance),
    ];

    protected override IReadOnlyList<Figure> Draw(IReadOnlyList<LevelResult<RoundDistances>> results, RoundDistancesHparams hparams)
    {
        var ids = results.SelectMany(r => r.Result.Pairs.Select(p => p.Network)).Distinct().OrderBy(id => id == LotteryNetworks.Main ? "" : id, StringComparer.Ordinal).ToArray();
        int last = results.Max(r => r.Level);
        var labels = Enumerable.Range(0, last + 1).Select(l => l.ToString(Invariant)).Append(Init).ToArray();
        var figures = new List<Figure>();
        foreach (var id in ids)
        {
            // Level 0 of every network is IMP's dense one: a branch's matrix takes its row against the initialization from IMP's level 0.
            var pairs = results.SelectMany(r => r.Result.Pairs.Where(p => p.Network == id || (r.Level == 0 && p.Network == LotteryNetworks.Main))
                .Select(p => (r.Replicate, r.Level, Pair: p))).ToArray();
            var present = pairs.Select(p => p.Level).ToHashSet();
            int replicates = pairs.Select(p => p.Replicate).Distinct().Count();
            string label = id == LotteryNetworks.Main ? "IMP (main)" : LotteryNetworks.Label(id, ids);
            foreach (var measure in Measures)
            {
                var cells = new List<double>[labels.Length, labels.Length];
                void Add(int a, int b, double value) => (cells[a, b] ??= []).Add(value);
                foreach (var (_, level, pair) in pairs)
                {
                    int other = pair.OtherLevel ?? last + 1;
                    Add(level, other, measure.Value(pair));
                    Add(other, level, measure.Value(pair));
                }
                var values = labels.Select((_, a) => (IReadOnlyList<double>)labels.Select((_, b) =>
                    a == b && a <= last ? (present.Contains(a) ? 0 : double.NaN) : cells[a, b] is { Count: > 0 } list ? list.Average() : double.NaN).ToArray()).ToArray();
                figures.Add(new Figure($"{measure.Name}_{id}", $"{measure.Title} between rounds, {label}" + (replicates > 1 ? $" (mean of {replicates} replicates)" : ""),
                    "round (level)", "round (level)", [])
                {
                    Heatmap = new Heatmap(labels, labels, values, measure.Title) { CellFormat = measure.Format },
                    YColumn = $"{measure.Name}_distance",
                });
            }
        }
        return figures;
    }
}
