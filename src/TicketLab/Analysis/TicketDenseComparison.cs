using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>One pair of trained networks compared on a mask: distances, prediction disagreement, barrier.</summary>
public sealed record PairComparison(string Name, WeightDistances Distances, double PredictionDisagreement, InterpolationCurve Curve)
{
    public JsonObject ToJson()
    {
        var json = Distances.ToJson();
        json["name"] = Name;
        json["prediction_disagreement"] = PredictionDisagreement;
        json["error_barrier"] = Curve.ErrorBarrier;
        json["error_excess_over_chord"] = Curve.ErrorExcessOverChord;
        json["loss_barrier"] = Curve.LossBarrier;
        json["curve"] = Curve.ToJson();
        return json;
    }

    public static PairComparison FromJson(JsonNode json) => new((string)json["name"]!,
        new WeightDistances((double)json["l2_distance"]!, (double)json["normalized_l2_distance"]!, (double)json["cosine_similarity"]!, (double)json["sign_agreement"]!),
        (double)json["prediction_disagreement"]!, InterpolationCurve.FromJson(json["curve"]!));
}

public sealed record LevelComparison(int Level, double Density, IReadOnlyList<PairComparison> Pairs)
{
    public PairComparison? Pair(string name) => Pairs.FirstOrDefault(p => p.Name == name);

    /// <summary>The ticket lands closer to the dense solution than a random re-initialization of the same mask does.</summary>
    public bool? SameRegion => Pair(TicketDenseComparison.TicketVsDense) is { } t && Pair(TicketDenseComparison.ReinitVsDense) is { } r
        ? t.Distances.NormalizedL2Distance < r.Distances.NormalizedL2Distance : null;

    /// <summary>
    /// Linearly connected to the dense network on the ticket's mask: the error never rises more
    /// than the threshold above the chord between the two endpoints. (The plain barrier would count
    /// the gap between a ticket and the weaker masked dense network as a barrier.)
    /// </summary>
    public bool? SameBasin(double threshold) => Pair(TicketDenseComparison.TicketVsDense)?.Curve.ErrorExcessOverChord < threshold;

    public JsonObject ToJson() => new()
    {
        ["level"] = Level, ["density"] = Density,
        ["pairs"] = new JsonArray(Pairs.Select(p => (JsonNode)p.ToJson()).ToArray()),
    };

    public static LevelComparison FromJson(JsonNode json) => new((int)json["level"]!, (double)json["density"]!,
        json["pairs"]!.AsArray().Select(p => PairComparison.FromJson(p!)).ToArray());
}

public sealed record ComparisonOptions
{
    public InterpolationOptions Interpolation { get; init; } = new();
    /// <summary>Also interpolate between the ticket and the unmasked dense network.</summary>
    public bool UnmaskedDense { get; init; }
    /// <summary>Error barrier under which two networks count as linearly connected (Frankle et al. 2020 used 2%).</summary>
    public double BasinThreshold { get; init; } = 0.02;

    public JsonObject ToJson()
    {
        var json = Interpolation.ToJson();
        json["unmasked_dense"] = UnmaskedDense;
        return json;
    }
}

/// <summary>
/// Does a ticket retrain to the same region, or the same basin, as the dense network it came
/// from? Compares each level's trained ticket with the level-0 network on the ticket's mask, next
/// to two controls on the same mask (the random_reinit branch, and a second ticket retrained from
/// the same rewound weights with another data order), and consecutive levels with each other.
/// Missing control branches are trained; every level's numbers are stored and reused.
/// </summary>
public static class TicketDenseComparison
{
    public const string TicketVsDense = "ticket_vs_dense";
    public const string ReinitVsDense = "reinit_vs_dense";
    public const string RetrainVsDense = "ticket2_vs_dense";
    public const string TicketVsRetrain = "ticket_vs_ticket2";
    public const string TicketVsUnmaskedDense = "ticket_vs_unmasked_dense";
    public const string TicketVsNextLevel = "level_vs_next_level";

    /// <summary>Data-order seed of the second ticket: distinct from the lottery's own (the replicate number).</summary>
    public static int SecondTicketSeed(int replicate) => 2_000_003 + replicate;

    public static IReadOnlyList<LevelComparison> Run(LotteryDesc lottery, int replicate, IReadOnlyList<int> levels, ComparisonOptions options,
        RunOptions runOptions, RunContext context)
    {
        var layout = LotteryRunner.Layout(context, lottery, replicate);
        string folder = Path.Combine(layout.Path, $"compare_{CanonicalJson.Sha256Hex(CanonicalJson.Serialize(options.ToJson()))[..8]}");
        Directory.CreateDirectory(folder);
        var results = new List<LevelComparison>();
        foreach (int level in levels)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            string path = Path.Combine(folder, $"level_{level}.json");
            if (File.Exists(path))
            {
                results.Add(LevelComparison.FromJson(JsonNode.Parse(File.ReadAllText(path))!));
                continue;
            }
            var comparison = CompareLevel(lottery, replicate, level, layout, options, runOptions, context);
            AtomicFile.WriteText(path, comparison.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            results.Add(comparison);
        }
        return results;
    }

    private static LevelComparison CompareLevel(LotteryDesc lottery, int replicate, int level, LotteryLayout layout,
        ComparisonOptions options, RunOptions runOptions, RunContext context)
    {
        if (!layout.Main(level).IsFinished)
            throw new InvalidDataException($"{layout.Main(level).Path}: level {level} has not finished; run `ticketlab lottery` with --levels {level} first.");
        TrainingSummary.Read(layout.Main(level))!.RequireConverged($"Level {level} of {lottery.RunName} (replicate {replicate})");
        if (level > 0) TrainingSummary.Read(layout.Main(0))?.RequireConverged($"The dense level 0 of {lottery.RunName} (replicate {replicate})");
        var reinit = BranchRegistry.Run(BranchRegistry.Get("random_reinit"), new RandomReinitHparams(), lottery, replicate, level, runOptions, context)
            .RequireConverged($"The random_reinit control at level {level} (replicate {replicate})");
        var retrain = BranchRegistry.Run(BranchRegistry.Get("retrain"), new RetrainHparams { RetrainDataOrderSeed = SecondTicketSeed(replicate) },
            lottery, replicate, level, runOptions, context).RequireConverged($"The second ticket (retrain) at level {level} (replicate {replicate})");

        var loaded = new List<Dictionary<string, Tensor>>();
        Dictionary<string, Tensor> Load(string path)
        {
            var state = TensorFile.Load(path);
            loaded.Add(state);
            return state;
        }
        using var mask = LotteryRunner.MaskOf(layout, level, lottery, context);
        try
        {
            var dense = Load(layout.Main(0).FinalModelPath);
            var ticket = Load(layout.Main(level).FinalModelPath);
            var reinitWeights = Load(Path.Combine(reinit.Folder, "models", "model_final.bin"));
            var secondTicket = Load(Path.Combine(retrain.Folder, "models", "model_final.bin"));
            var (train, test) = context.Data.Get(lottery.Training.Dataset.DatasetName, lottery.Training.Dataset.TrainSubset, context.Device);
            using var model = LotteryRunner.Skeleton(lottery.Training, context);
            model.to(context.Device);

            PairComparison Compare(string name, Dictionary<string, Tensor> a, Dictionary<string, Tensor> b, Mask onMask, bool maskInterpolation = true) => new(
                name,
                WeightDistances.Compute(a, b, onMask),
                Predictions.Disagreement(model, a, b, test),
                Interpolation.Run(model, a, b, maskInterpolation ? onMask : null, test, train, options.Interpolation));

            var pairs = new List<PairComparison>
            {
                Compare(TicketVsDense, ticket, dense, mask),
                Compare(ReinitVsDense, reinitWeights, dense, mask),
                Compare(RetrainVsDense, secondTicket, dense, mask),
                Compare(TicketVsRetrain, ticket, secondTicket, mask),
            };
            if (options.UnmaskedDense) pairs.Add(Compare(TicketVsUnmaskedDense, ticket, dense, mask, maskInterpolation: false));
            if (layout.Main(level + 1).IsFinished)
            {
                using var nextMask = LotteryRunner.MaskOf(layout, level + 1, lottery, context);
                pairs.Add(Compare(TicketVsNextLevel, ticket, Load(layout.Main(level + 1).FinalModelPath), nextMask));
            }
            return new LevelComparison(level, mask.Density, pairs);
        }
        finally
        {
            foreach (var t in loaded.SelectMany(s => s.Values)) t.Dispose();
        }
    }
}
