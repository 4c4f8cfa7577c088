using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>
/// Where the two copies of an instability analysis start: the state at a step of a training
/// run (0it: initialization), or a lottery level's rewound subnetwork with its mask.
/// </summary>
public sealed record InstabilityStart
{
    private InstabilityStart(TrainingDesc training, StepSpec step, LotteryDesc? lottery, int level)
    {
        Training = training;
        Step = step;
        Lottery = lottery;
        Level = level;
    }

    public TrainingDesc Training { get; }
    public StepSpec Step { get; }
    public LotteryDesc? Lottery { get; }
    public int Level { get; }

    /// <summary>
    /// A parent run shared by several start steps (a rewind sweep): it follows the recipe up to the
    /// last of <see cref="SharedParentSteps"/>, saving each, instead of one parent per step.
    /// </summary>
    public string? SharedParentRun { get; init; }
    public IReadOnlyList<StepSpec> SharedParentSteps { get; init; } = [];


    public static InstabilityStart FromTraining(TrainingDesc training, StepSpec step) => new(training, step, null, 0);

    public static InstabilityStart FromLottery(LotteryDesc lottery, int level) =>
        new(lottery.Training, lottery.Lottery.RewindStep, lottery, level);

    public string Describe => Lottery is null
        ? $"step {Step} of {Training.RunName}"
        : $"level {Level} of {Lottery.RunName} (rewound to {Step})";

    public JsonObject ToJson() => Lottery is null
        ? new JsonObject { ["kind"] = "training", ["training"] = Training.ToJson(), ["start_step"] = Step.ToString() }
        : new JsonObject { ["kind"] = "lottery_level", ["lottery_run"] = Lottery.RunName, ["lottery"] = Lottery.ToJson(), ["level"] = Level };

    /// <summary>Names the analysis: <c>instability_&lt;hash&gt;</c>, over non-default values only.</summary>
    public string RunName
    {
        get
        {
            JsonObject key;
            if (Lottery is null)
            {
                key = Training.NameKey();
                key["start_step"] = Step.ToString();
            }
            else key = new JsonObject { ["lottery_run"] = Lottery.RunName, ["level"] = Level };
            return ExperimentName.Of("instability", key);
        }
    }
}

public sealed record InstabilityResult(int Replicate, InterpolationCurve Curve, double AccuracyA, double AccuracyB, string Folder)
{
    public JsonObject ToJson() => new()
    {
        ["replicate"] = Replicate, ["folder"] = Folder,
        ["endpoint_a_test_accuracy"] = AccuracyA, ["endpoint_b_test_accuracy"] = AccuracyB,
        ["curve"] = Curve.ToJson(),
    };
}

/// <summary>
/// Instability analysis (Frankle et al. 2020): train two copies from one state with different
/// data orders to the end of the recipe, then interpolate between them. Copies, the parent run
/// that reaches the start step, and each interpolation are stored and never recomputed.
/// </summary>
public static class InstabilityAnalysis
{
    /// <summary>Data-order seeds of the two copies of a replicate; disjoint from the default seeds (the replicate number).</summary>
    public static (int A, int B) CopySeeds(int replicate) => (1_000_003 + 2 * replicate, 1_000_004 + 2 * replicate);

    public static InstabilityResult Run(InstabilityStart start, int replicate, InterpolationOptions interpolation, RunOptions options, RunContext context)
    {
        var folder = context.Store.ReplicateFolder(start.RunName, replicate);
        // Loads the data first (a run that cannot start writes nothing) and refuses a start at the end.
        start.Training.RequireBeforeEnd(start.Step, LotteryRunner.IterationsPerEpoch(start.Training, context), start.Lottery is null ? "--start-step" : "--rewind-step");
        Directory.CreateDirectory(folder);
        AtomicFile.WriteJson(Path.Combine(folder, "..", "analysis.json"), start.ToJson());

        string curvePath = Path.Combine(folder, ExperimentName.Of("interpolation", HparamJson.NonDefault(interpolation)) + ".json");
        LegacyName.Adopt(curvePath, Path.Combine(folder, ExperimentName.Of("interpolation", interpolation.ToJson()) + ".json"));
        if (File.Exists(curvePath)) return FromJson(JsonNode.Parse(File.ReadAllText(curvePath))!, folder);

        var (state, mask) = StartState(start, replicate, options, context, folder);
        try
        {
            var (seedA, seedB) = CopySeeds(replicate);
            // The two copies train together, as one stack (--networks-per-process 1: one after the other).
            var names = new[] { (Name: "copy_a", Seed: seedA), (Name: "copy_b", Seed: seedB) };
            var jobs = names.Select(copy =>
            {
                var desc = start.Training with { Training = start.Training.Training with { DataOrderSeed = copy.Seed } };
                var trainingStart = new TrainingStart
                {
                    InitialState = state,
                    StartStep = start.Step,
                    Constraint = mask is null ? null : model => new MaskConstraint(model, mask),
                };
                var extra = new JsonObject { ["instability_run"] = start.RunName, ["copy"] = copy.Name };
                return new TrainingJob(new RunFolder(Path.Combine(folder, copy.Name)), desc, replicate, trainingStart, extra);
            }).ToArray();
            var copies = StackedTraining.TrainAll(jobs, options, context)
                .Select((summary, i) => summary.RequireConverged($"{names[i].Name} of instability analysis {start.RunName} (replicate {replicate})")).ToArray();

            var (copyA, copyB) = (new RunFolder(copies[0].Folder), new RunFolder(copies[1].Folder));
            var w0 = copyA.LoadTensors(copyA.FinalModelPath);
            var w1 = copyB.LoadTensors(copyB.FinalModelPath);
            try
            {
                var (train, test) = context.Data.Get(start.Training.Dataset.DatasetName, start.Training.Dataset.TrainSubset, context.Device);
                using var model = LotteryRunner.Skeleton(start.Training, context);
                model.to(context.Device);
                var curve = Interpolation.Run(model, w0, w1, mask, test, train, interpolation);
                var result = new InstabilityResult(replicate, curve, copies[0].FinalTestAccuracy, copies[1].FinalTestAccuracy, folder);
                var json = result.ToJson();
                json["interpolation"] = interpolation.ToJson();
                AtomicFile.WriteJson(curvePath, json);
                return result;
            }
            finally
            {
                foreach (var t in w0.Values.Concat(w1.Values)) t.Dispose();
            }
        }
        finally
        {
            foreach (var t in state?.Values.AsEnumerable() ?? []) t.Dispose();
            mask?.Dispose();
        }
    }

    private static InstabilityResult FromJson(JsonNode json, string folder) => new(
        (int)json["replicate"]!, InterpolationCurve.FromJson(json["curve"]!),
        (double)json["endpoint_a_test_accuracy"]!, (double)json["endpoint_b_test_accuracy"]!, folder);

    /// <summary>The weights (null: the recipe's own initialization) and mask the copies start from.</summary>
    private static (Dictionary<string, Tensor>? State, Mask? Mask) StartState(InstabilityStart start, int replicate, RunOptions options, RunContext context, string folder)
    {
        if (start.Lottery is { } lottery)
        {
            var layout = LotteryRunner.Layout(context, lottery, replicate);
            if (!File.Exists(layout.MaskPath(start.Level)) && start.Level > 0)
                throw new InvalidDataException($"{layout.MaskPath(start.Level)} does not exist: run `ticketlab lottery` with at least {start.Level} levels (replicate {replicate}) first.");
            var mask = LotteryRunner.MaskOf(layout, start.Level, lottery, context);
            return (LotteryRunner.RewindState(layout, lottery, context), mask);
        }
        if (start.Step.IsZero) return (null, null);

        // The parent follows the whole recipe's schedule but stops at the (last) start step.
        var parentFolder = start.SharedParentRun is { } shared
            ? new RunFolder(context.Store.ReplicateFolder(shared, replicate))
            : new RunFolder(Path.Combine(folder, "parent"));
        IReadOnlyList<StepSpec> saves = start.SharedParentRun is null ? [start.Step] : start.SharedParentSteps;
        int perEpoch = LotteryRunner.IterationsPerEpoch(start.Training, context);
        var stopAt = saves.MaxBy(s => s.ToStep(perEpoch).Iteration);
        TrainingRunner.Train(parentFolder, start.Training, replicate,
            options with { StopAt = stopAt, SaveSteps = [.. saves] }, context, start: null,
            new JsonObject { ["instability_run"] = start.SharedParentRun ?? start.RunName, ["parent_until"] = stopAt.ToString() })
            .RequireConverged($"The parent run of instability analysis {start.RunName} (replicate {replicate})");
        return (parentFolder.LoadTensors(parentFolder.ModelPath(start.Step.ToStep(perEpoch))), null);
    }
}

/// <summary>
/// Mean, min and max of barriers over replicates, per start step: the curve that shows when
/// training becomes stable. Beside the barrier: the endpoint errors and the rise of the error above
/// the straight line between them, since endpoints of different quality make a barrier without any
/// rise along the path.
/// </summary>
public sealed record SweepRow(StepSpec Step, IReadOnlyList<InstabilityResult> Results)
{
    public double MeanErrorBarrier => Results.Average(r => r.Curve.ErrorBarrier);
    public double MinErrorBarrier => Results.Min(r => r.Curve.ErrorBarrier);
    public double MaxErrorBarrier => Results.Max(r => r.Curve.ErrorBarrier);
    public double MeanErrorExcessOverChord => Results.Average(r => r.Curve.ErrorExcessOverChord);
    public double MeanLossBarrier => Results.Average(r => r.Curve.LossBarrier);
    public double MeanEndpointAccuracy => Results.Average(r => (r.AccuracyA + r.AccuracyB) / 2);
    /// <summary>The largest gap between the two endpoints' test errors over replicates.</summary>
    public double MaxEndpointGap => Results.Max(r => Math.Abs(r.AccuracyA - r.AccuracyB));

    /// <summary>Stable to SGD noise when the mean error barrier is under the threshold (Frankle et al. 2020: 2%).</summary>
    public bool IsStable(double threshold) => MeanErrorBarrier < threshold;

    public JsonObject ToJson() => new()
    {
        ["step"] = Step.ToString(),
        ["error_barrier"] = new JsonObject { ["mean"] = MeanErrorBarrier, ["min"] = MinErrorBarrier, ["max"] = MaxErrorBarrier },
        ["error_excess_over_chord_mean"] = MeanErrorExcessOverChord,
        ["loss_barrier_mean"] = MeanLossBarrier,
        ["endpoint_test_accuracy_mean"] = MeanEndpointAccuracy,
        ["endpoint_test_accuracy_gap_max"] = MaxEndpointGap,
        ["replicates"] = new JsonArray(Results.Select(r => (JsonNode)r.ToJson()).ToArray()),
    };
}
