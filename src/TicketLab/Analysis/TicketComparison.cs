using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>
/// Two trained networks compared (see docs/analysis.md): L2 distances between their starting
/// points and between their trained endpoints, how far training moved the first, cosine, angular
/// distance and sign agreement of the endpoints over the mask's surviving weights, prediction
/// disagreement and two-network ensemble accuracy on the test set, and the linear interpolation
/// between the trained endpoints (error and loss barrier, Frankle et al. 2020). The travel angles
/// (angular distance of each network's end from its start) are absent from comparisons stored
/// before they were measured.
/// </summary>
public sealed record PairComparison(
    string Name, WeightDistances Start, WeightDistances End, double TravelA, double TravelB,
    double PredictionDisagreement, double EnsembleAccuracy, double AccuracyA, double AccuracyB, InterpolationCurve Curve,
    double? TravelAngleA = null, double? TravelAngleB = null)
{
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["start"] = Start.ToJson(),
        ["end"] = End.ToJson(),
        ["travel_a_l2"] = TravelA,
        ["travel_b_l2"] = TravelB,
        ["travel_a_angular_distance"] = TravelAngleA,
        ["travel_b_angular_distance"] = TravelAngleB,
        ["prediction_disagreement"] = PredictionDisagreement,
        ["ensemble_test_accuracy"] = EnsembleAccuracy,
        ["test_accuracy_a"] = AccuracyA,
        ["test_accuracy_b"] = AccuracyB,
        ["curve"] = Curve.ToJson(),
    };

    public static PairComparison FromJson(JsonNode json) => new((string)json["name"]!,
        WeightDistances.FromJson(json["start"]!), WeightDistances.FromJson(json["end"]!),
        (double)json["travel_a_l2"]!, (double)json["travel_b_l2"]!,
        (double)json["prediction_disagreement"]!, (double)json["ensemble_test_accuracy"]!,
        (double)json["test_accuracy_a"]!, (double)json["test_accuracy_b"]!, InterpolationCurve.FromJson(json["curve"]!),
        (double?)json["travel_a_angular_distance"], (double?)json["travel_b_angular_distance"]);
}

/// <summary>One network of a level's comparison: its role, what it is, and where it lives.</summary>
public sealed record ComparedNetwork(string Role, string Description, string Folder);

/// <summary>
/// The comparison of one lottery level: the ticket T with the pruning solution P it came from,
/// with the dense solution D as a reference and two controls on the same mask: the scratch
/// network R (random re-initialization) and a second ticket T2 (same rewound weights, another
/// data order).
/// </summary>
public sealed record LevelComparison(int Level, double Density, double PruningSolutionErrorBefore, double PruningSolutionErrorAfter,
    IReadOnlyList<ComparedNetwork> Networks, IReadOnlyList<PairComparison> Pairs) : IStoredResult<LevelComparison>
{
    public PairComparison? Pair(string name) => Pairs.FirstOrDefault(p => p.Name == name);

    /// <summary>Same basin, judged on this replicate alone (<see cref="ComparisonVerdicts.SameBasin"/> pools replicates).</summary>
    public Verdict SameBasin(double threshold) => ComparisonVerdicts.SameBasin([this], threshold);

    /// <summary>Same region, judged on this replicate alone (<see cref="ComparisonVerdicts.SameRegion"/> pools replicates).</summary>
    public Verdict SameRegion() => ComparisonVerdicts.SameRegion([this]);

    public JsonObject ToJson() => new()
    {
        ["level"] = Level, ["density"] = Density,
        ["pruning_solution_error_before_finetuning"] = PruningSolutionErrorBefore,
        ["pruning_solution_error_after_finetuning"] = PruningSolutionErrorAfter,
        ["networks"] = new JsonArray(Networks.Select(n => (JsonNode)new JsonObject { ["role"] = n.Role, ["description"] = n.Description, ["folder"] = n.Folder }).ToArray()),
        ["pairs"] = new JsonArray(Pairs.Select(p => (JsonNode)p.ToJson()).ToArray()),
    };

    public static LevelComparison FromJson(JsonNode json) => new((int)json["level"]!, (double)json["density"]!,
        (double)json["pruning_solution_error_before_finetuning"]!, (double)json["pruning_solution_error_after_finetuning"]!,
        json["networks"]!.AsArray().Select(n => new ComparedNetwork((string)n!["role"]!, (string)n["description"]!, (string)n["folder"]!)).ToArray(),
        json["pairs"]!.AsArray().Select(p => PairComparison.FromJson(p!)).ToArray());
}

/// <summary>
/// The hyperparameters of a comparison (<c>ticketlab analyze compare</c>): the interpolation, the
/// pruning solution's fine-tuning, and the basin verdict's threshold. The first two change the numbers
/// and name the stored results (non-default fields only); the threshold only changes the verdict.
/// </summary>
public sealed record ComparisonOptions : IHparams
{
    [HparamGroup("", "interpolation between trained endpoints")]
    public InterpolationOptions Interpolation { get; init; } = new();

    /// <summary>How the pruning solution is fine-tuned on the ticket's mask (<c>--finetune-steps</c>, <c>--seed</c>).</summary>
    [HparamGroup("", "the pruning solution's fine-tuning")]
    public PruningSolutionHparams PruningSolution { get; init; } = new();

    [System.Text.Json.Serialization.JsonIgnore]
    [Hparam("Rise of the test error above the chord (as a fraction) under which two networks count as one basin (after Frankle et al. 2020's 0.02 barrier).")]
    public double BasinThreshold { get; init; } = InterpolationCurve.StabilityThreshold;

    public void Validate()
    {
        Interpolation.Validate();
        PruningSolution.Validate();
        InterpolationCurve.RequireThreshold(BasinThreshold, "--basin-threshold");
    }
}

/// <summary>
/// Does a ticket retrain to the same region, or the same basin, as the solution it was pruned
/// from? For a level L >= 1 it trains what is missing (the pruning solution P, the scratch
/// control R, the second ticket T2) and compares trained endpoints only: T-P, R-P, T-T2, T-D, R-D.
/// The registered analysis <c>compare</c> stores each level's numbers.
/// </summary>
public static class TicketComparison
{
    public const string TP = "T-P", RP = "R-P", TT2 = "T-T2", TD = "T-D", RD = "R-D";

    /// <summary>Data-order seed of the second ticket: distinct from the lottery's own (the replicate number).</summary>
    public static int SecondTicketSeed(int replicate) => RetrainHparams.NoiseFloorSeed(replicate);

    private sealed record Endpoints(ComparedNetwork Network, Dictionary<string, Tensor> Start, Dictionary<string, Tensor> End, double TestAccuracy);

    public static LevelComparison CompareLevel(LotteryDesc lottery, int replicate, int level, LotteryLayout layout,
        ComparisonOptions options, RunOptions runOptions, RunContext context)
    {
        string what = $"{lottery.RunName} replicate {replicate}";
        var ticket = TrainingSummary.Read(layout.Main(level))
            ?? throw new InvalidDataException($"{layout.Main(level).Path}: level {level} has not finished; run `ticketlab lottery` with --levels {level} first.");
        ticket.RequireConverged($"Level {level} of {what}");
        var dense = TrainingSummary.Read(layout.Main(0))!.RequireConverged($"The dense level 0 of {what}");
        var pruned = BranchRegistry.Run(BranchRegistry.Get("pruning_solution"), options.PruningSolution, lottery, replicate, level, runOptions, context)
            .RequireConverged($"The pruning solution of level {level} ({what})");
        // The scratch network and the second ticket train together (one stack where the architecture allows).
        var controls = BranchRegistry.RunTogether(lottery, [
            new BranchRun(BranchRegistry.Get("random_reinit"), new RandomReinitHparams(), replicate, level),
            new BranchRun(BranchRegistry.Get("retrain"), new RetrainHparams { Training = lottery.Training.Training with { DataOrderSeed = SecondTicketSeed(replicate) } }, replicate, level),
        ], runOptions, context);
        var scratch = controls[0].RequireConverged($"The random_reinit control at level {level} ({what})");
        var second = controls[1].RequireConverged($"The second ticket at level {level} ({what})");

        int perEpoch = LotteryRunner.IterationsPerEpoch(lottery.Training, context);
        var rewind = lottery.Lottery.RewindStep.ToStep(perEpoch);
        var origin = Step.Zero(perEpoch);
        var loaded = new List<Endpoints>();
        Endpoints Load(string role, string description, TrainingSummary run, Step start)
        {
            var folder = new RunFolder(run.Folder);
            var endpoints = new Endpoints(new ComparedNetwork(role, description, run.Folder),
                folder.LoadTensors(folder.ModelPath(start)), folder.LoadTensors(folder.FinalModelPath), run.FinalTestAccuracy);
            loaded.Add(endpoints);
            return endpoints;
        }
        using var mask = LotteryRunner.MaskOf(layout, level, lottery, context);
        try
        {
            var t = Load("T", $"ticket: level {level}, rewound to {lottery.Lottery.RewindStep}", ticket, rewind);
            var p = Load("P", $"pruning solution: level {level - 1}'s trained network on level {level}'s mask, fine-tuned {options.PruningSolution.FinetuneSteps}", pruned, origin);
            var r = Load("R", "scratch control: random re-initialization of the mask (random_reinit), trained", scratch, rewind);
            var t2 = Load("T2", $"second ticket: the ticket's rewound weights retrained with data order seed {SecondTicketSeed(replicate)} (retrain branch)", second, rewind);
            var d = Load("D", "dense solution: level 0, trained without a mask", dense, origin);

            var (train, test) = context.Data.Get(lottery.Training.Dataset.DatasetName, lottery.Training.Dataset.TrainSubset, context.Device);
            using var model = LotteryRunner.Skeleton(lottery.Training, context);
            model.to(context.Device);
            PairComparison Compare(string name, Endpoints a, Endpoints b)
            {
                var (disagreement, ensemble) = Predictions.Compare(model, a.End, b.End, test);
                var travelA = WeightDistances.Compute(a.End, a.Start, mask);
                var travelB = WeightDistances.Compute(b.End, b.Start, mask);
                return new PairComparison(name,
                    WeightDistances.Compute(a.Start, b.Start, mask), WeightDistances.Compute(a.End, b.End, mask),
                    travelA.L2Distance, travelB.L2Distance, disagreement, ensemble, a.TestAccuracy, b.TestAccuracy,
                    // Trained endpoints only: a sparse network and a dense one are joined unmasked.
                    Interpolation.Run(model, a.End, b.End, null, test, train, options.Interpolation),
                    travelA.AngularDistance, travelB.AngularDistance);
            }
            var pairs = new[] { Compare(TP, t, p), Compare(RP, r, p), Compare(TT2, t, t2), Compare(TD, t, d), Compare(RD, r, d) };
            double before = DataNumbers.Derived(1 - new RunFolder(pruned.Folder).ReadMetrics().First(m => m.Name == "test_accuracy" && m.Step == 0).Value);
            return new LevelComparison(level, mask.Density, before, DataNumbers.Derived(1 - pruned.FinalTestAccuracy), loaded.Select(e => e.Network).ToArray(), pairs);
        }
        finally
        {
            foreach (var tensor in loaded.SelectMany(e => e.Start.Values.Concat(e.End.Values))) tensor.Dispose();
        }
    }
}
