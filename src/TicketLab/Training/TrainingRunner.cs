using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Store;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>Run-time choices that do not change the trained weights, so they are not hashed.</summary>
public sealed record RunOptions
{
    /// <summary>Evaluate on the test set at each epoch start (and always at the end).</summary>
    public bool EvaluateEveryEpoch { get; init; } = true;
    /// <summary>Extra steps at which to evaluate on the test set.</summary>
    public StepSpec[] EvaluateSteps { get; init; } = [];
    /// <summary>Also evaluate on the training set whenever the test set is evaluated.</summary>
    public bool EvaluateTrainSet { get; init; }
    /// <summary>Steps at which to save the weights (states to rewind to). Step 0 and the end are always saved.</summary>
    public StepSpec[] SaveSteps { get; init; } = [];
    /// <summary>Stop at this step instead of the end of the recipe; the learning-rate schedule still follows the whole recipe.</summary>
    public StepSpec? StopAt { get; init; }
}

/// <summary>
/// Where training starts when it is not a fresh initialization: given weights (a rewound
/// ticket), a step to continue the schedule and data order from, and a constraint re-applied
/// after every optimizer step (a pruning mask).
/// </summary>
public sealed record TrainingStart
{
    public IReadOnlyDictionary<string, Tensor>? InitialState { get; init; }
    public StepSpec StartStep { get; init; }
    public Func<TicketModel, IParameterConstraint>? Constraint { get; init; }
}

public sealed record TrainingSummary
{
    public required string Folder { get; init; }
    public required double FinalTestAccuracy { get; init; }
    public required double FinalTestLoss { get; init; }
    public required double BestTestAccuracy { get; init; }
    public required long BestTestAccuracyStep { get; init; }
    public required long Iterations { get; init; }
    public required int IterationsPerEpoch { get; init; }
    public double SecondsPerEpoch { get; init; }
    public double ImagesPerSecond { get; init; }
    public double WallSeconds { get; init; }
    public bool AlreadyFinished { get; init; }

    public JsonObject ToJson() => new()
    {
        ["final_test_accuracy"] = FinalTestAccuracy,
        ["final_test_loss"] = FinalTestLoss,
        ["best_test_accuracy"] = BestTestAccuracy,
        ["best_test_accuracy_step"] = BestTestAccuracyStep,
        ["iterations"] = Iterations,
        ["iterations_per_epoch"] = IterationsPerEpoch,
        ["seconds_per_epoch"] = double.IsFinite(SecondsPerEpoch) ? SecondsPerEpoch : null,
        ["images_per_second"] = double.IsFinite(ImagesPerSecond) ? ImagesPerSecond : null,
        ["wall_seconds"] = WallSeconds,
    };

    public static TrainingSummary FromJson(string folder, JsonObject json) => new()
    {
        Folder = folder,
        FinalTestAccuracy = (double)json["final_test_accuracy"]!,
        FinalTestLoss = (double)json["final_test_loss"]!,
        BestTestAccuracy = (double)json["best_test_accuracy"]!,
        BestTestAccuracyStep = (long)json["best_test_accuracy_step"]!,
        Iterations = (long)json["iterations"]!,
        IterationsPerEpoch = (int)json["iterations_per_epoch"]!,
        SecondsPerEpoch = (double?)json["seconds_per_epoch"] ?? double.NaN,
        ImagesPerSecond = (double?)json["images_per_second"] ?? double.NaN,
        WallSeconds = (double?)json["wall_seconds"] ?? 0,
        AlreadyFinished = true,
    };
}

/// <summary>
/// Trains one run into its folder: skips it if finished, resumes it from its checkpoint if
/// interrupted, and otherwise starts it; ends by writing summary.json.
/// </summary>
public static class TrainingRunner
{
    public static TrainingSummary Train(TrainingDesc desc, int replicate, RunOptions options, RunContext context)
    {
        var folder = new RunFolder(context.Store.ReplicateFolder(desc.RunName, replicate));
        return Train(folder, desc, replicate, options, context, start: null, extraHparams: null);
    }

    public static int ModelSeed(TrainingDesc desc, int replicate) => desc.Model.ModelInitSeed ?? replicate;
    public static int DataOrderSeed(TrainingDesc desc, int replicate) => desc.Training.DataOrderSeed ?? replicate;

    public static TrainingSummary Train(RunFolder folder, TrainingDesc desc, int replicate, RunOptions options,
        RunContext context, TrainingStart? start, JsonObject? extraHparams)
    {
        desc.Validate();
        if (folder.ReadSummary() is { } done) return TrainingSummary.FromJson(folder.Path, done);

        using var runLock = RunLock.Acquire(folder.Path);
        if (folder.ReadSummary() is { } doneMeanwhile) return TrainingSummary.FromJson(folder.Path, doneMeanwhile);

        var (train, test) = context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device);
        bool augment = train.Info.AugmentTraining && !desc.Dataset.DoNotAugment;
        var batches = new TrainingBatches(train, desc.Dataset.BatchSize, DataOrderSeed(desc, replicate), augment);
        int perEpoch = batches.IterationsPerEpoch;
        var end = desc.Training.TrainingSteps.ToStep(perEpoch);
        if (options.StopAt?.ToStep(perEpoch) is { } stop && stop < end) end = stop;

        using var model = ModelRegistry.Create(desc.Model, InputSpec.Of(train), ModelSeed(desc, replicate));
        model.to(context.Device);
        using var optimizer = OptimizerFactory.Create(desc.Training, model.parameters());

        var hparams = desc.ToJson();
        hparams["replicate"] = replicate;
        hparams["model_init_seed"] = ModelSeed(desc, replicate);
        hparams["data_order_seed"] = DataOrderSeed(desc, replicate);
        hparams["run_name"] = desc.RunName;
        if (extraHparams is not null)
            foreach (var (key, value) in extraHparams) hparams[key] = value?.DeepClone();
        folder.WriteJson(folder.HparamsPath, hparams);

        Step origin = start?.StartStep.ToStep(perEpoch) ?? Step.Zero(perEpoch);
        Step first = origin;
        if (start?.InitialState is { } initial) ModelState.Copy(model, initial, "initial state");
        var constraint = start?.Constraint?.Invoke(model);
        constraint?.Apply();

        if (File.Exists(folder.CheckpointPath))
        {
            first = Checkpoint.Load(folder.CheckpointPath, model, optimizer);
            if (first.IterationsPerEpoch != perEpoch)
                throw new InvalidDataException($"{folder.CheckpointPath}: was written with {first.IterationsPerEpoch} iterations per epoch, the run now has {perEpoch}. Delete the folder to start again.");
            context.Log.WriteLine($"Resuming {folder.Path} from step {first} (iteration {first.Iteration}).");
        }

        using var metrics = new MetricsLog(folder.MetricsPath);
        metrics.Open(first.Iteration);

        var evaluateWhen = options.EvaluateEveryEpoch ? When.EveryEpoch : (_ => false);
        // With per-epoch evaluation the starting point is evaluated too: for a rewound ticket it is the accuracy before retraining.
        var extraEvaluations = options.EvaluateSteps.Select(s => s.ToStep(perEpoch));
        if (options.EvaluateEveryEpoch) extraEvaluations = extraEvaluations.Append(origin);
        evaluateWhen = evaluateWhen.Or(When.AtSteps(extraEvaluations));
        var timing = new TimingCallback();
        var testEvaluation = new EvaluationCallback(test, "test", evaluateWhen, metrics);
        var callbacks = new List<ITrainingCallback>
        {
            new SaveModelCallback(folder, When.AtSteps(options.SaveSteps.Select(s => s.ToStep(perEpoch)).Append(Step.Zero(perEpoch)).Append(origin))),
            testEvaluation,
        };
        if (options.EvaluateTrainSet) callbacks.Add(new EvaluationCallback(train, "train", evaluateWhen, metrics));
        callbacks.Add(new TrainingMetricsCallback(metrics));
        callbacks.Add(new CheckpointCallback(folder));
        callbacks.AddRange(context.Observers(folder, metrics));
        callbacks.Add(timing);

        var loop = new TrainingLoop
        {
            Model = model, Optimizer = optimizer, Hparams = desc.Training, Batches = batches,
            Callbacks = callbacks, Constraint = constraint,
        };
        loop.Run(first, end, context.Cancellation);

        var testAccuracies = metrics.Rows.Where(r => r.Name == "test_accuracy").ToArray();
        var best = testAccuracies.MaxBy(r => r.Value);
        var final = testEvaluation.Last!.Value;
        var summary = new TrainingSummary
        {
            Folder = folder.Path,
            FinalTestAccuracy = final.Accuracy,
            FinalTestLoss = final.Loss,
            BestTestAccuracy = best.Value,
            BestTestAccuracyStep = best.Step,
            Iterations = end.Iteration,
            IterationsPerEpoch = perEpoch,
            SecondsPerEpoch = timing.SecondsPerEpoch,
            ImagesPerSecond = timing.ImagesPerSecond,
            WallSeconds = timing.WallSeconds,
        };
        folder.WriteJson(folder.SummaryPath, summary.ToJson());
        File.Delete(folder.CheckpointPath);
        return summary;
    }
}
