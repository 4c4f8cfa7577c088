using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;

namespace TicketLab.Training;

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
        if (TrainingSummary.Read(folder) is { } done) return done;

        // Data first: a run that cannot start leaves nothing in the store.
        var (train, test) = context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device);
        using var runLock = context.WaitForLocks
            ? RunLock.AcquireWaiting(folder.Path, context.Cancellation, holder => context.Log.WriteLine($"Waiting: {holder}."))
                ?? throw new OperationCanceledException(context.Cancellation)
            : RunLock.Acquire(folder.Path);
        if (TrainingSummary.Read(folder) is { } doneMeanwhile) return doneMeanwhile;

        using var setup = TrainingSetup.Create(desc, replicate, train, context.Device, start, options.StopAt);
        var (model, optimizer, perEpoch, origin, end) = (setup.Model, setup.Optimizer, setup.IterationsPerEpoch, setup.Origin, setup.End);

        var dataFiles = train.Files.Concat(test.Files).DistinctBy(f => f.Path).ToArray();
        var hparams = desc.ToJson();
        hparams["replicate"] = replicate;
        hparams["model_init_seed"] = ModelSeed(desc, replicate);
        hparams["data_order_seed"] = DataOrderSeed(desc, replicate);
        hparams["run_name"] = desc.RunName;
        hparams["data_files"] = new JsonArray(dataFiles.Select(f => (JsonNode)new JsonObject { ["path"] = f.Path, ["sha256"] = f.Sha256 }).ToArray());
        if (extraHparams is not null)
            foreach (var (key, value) in extraHparams) hparams[key] = value?.DeepClone();
        folder.WriteJson(folder.HparamsPath, hparams);
        foreach (var file in context.Data.NotYetAnnounced(dataFiles)) context.Log.WriteLine($"Data: {file.Path} (sha256 {file.Sha256[..16]})");

        Step first = origin;

        var trainingMetrics = new TrainingMetricsCallback();
        IResumableCallback[] resumables = [trainingMetrics];
        int keepRows = 0;
        if (File.Exists(folder.CheckpointPath))
        {
            var header = Checkpoint.Load(folder.CheckpointPath, model, optimizer, origin, end);
            first = header.Step;
            keepRows = header.MetricRows;
            CheckpointCallback.Restore(header, resumables);
            context.Log.WriteLine($"Resuming {folder.Path} from step {first} (iteration {first.Iteration}).");
        }

        using var metrics = new MetricsLog(folder.MetricsPath);
        metrics.Open(keepRows);
        trainingMetrics.Log = metrics;

        var evaluateWhen = options.EvaluateEveryEpoch ? When.EveryEpoch : (_ => false);
        // With per-epoch evaluation the starting point is evaluated too: for a rewound ticket it is the accuracy before retraining.
        var extraEvaluations = options.EvaluateSteps.Select(s => s.ToStep(perEpoch));
        if (options.EvaluateEveryEpoch) extraEvaluations = extraEvaluations.Append(origin);
        evaluateWhen = evaluateWhen.Or(When.AtSteps(extraEvaluations));
        var timing = new TimingCallback();
        var testEvaluation = new EvaluationCallback(test, "test", evaluateWhen, metrics);
        var callbacks = new List<ITrainingCallback>
        {
            new CheckpointCallback(folder, metrics, resumables), // first: it counts the rows logged before each step
            new SaveModelCallback(folder, When.AtSteps(options.SaveSteps.Select(s => s.ToStep(perEpoch)).Append(Step.Zero(perEpoch)).Append(origin))),
            testEvaluation,
        };
        if (options.EvaluateTrainSet) callbacks.Add(new EvaluationCallback(train, "train", evaluateWhen, metrics));
        callbacks.Add(trainingMetrics);
        callbacks.AddRange(context.Observers(folder, metrics));
        callbacks.Add(timing);

        var loop = setup.Loop(desc.Training, callbacks);
        var provenance = Provenance.Begin(folder, context.Device, dataFiles, first);
        Divergence? divergence;
        try
        {
            divergence = loop.Run(first, end, context.Cancellation);
        }
        catch (OperationCanceledException)
        {
            provenance.End("interrupted", null);
            throw;
        }
        catch
        {
            provenance.End("failed", null);
            throw;
        }

        var testAccuracies = metrics.Rows.Where(r => r.Name == "test_accuracy").ToArray();
        var best = testAccuracies.Length > 0 ? testAccuracies.MaxBy(r => r.Value) : new MetricRow("test_accuracy", 0, double.NaN);
        var final = divergence is null ? testEvaluation.Last!.Value : new EvaluationResult(double.NaN, double.NaN, 0);
        var summary = new TrainingSummary
        {
            Folder = folder.Path,
            FinalTestAccuracy = final.Accuracy,
            FinalTestLoss = final.Loss,
            BestTestAccuracy = best.Value,
            BestTestAccuracyStep = best.Step,
            Iterations = divergence?.Step.Iteration ?? end.Iteration,
            IterationsPerEpoch = perEpoch,
            SecondsPerEpoch = timing.SecondsPerEpoch,
            MedianEpochSeconds = timing.MedianEpochSeconds,
            ImagesPerSecond = timing.ImagesPerSecond,
            WallSeconds = timing.WallSeconds,
            DivergedAtStep = divergence?.Step.Iteration,
            DivergenceCause = divergence?.Cause,
        };
        folder.WriteJson(folder.SummaryPath, summary.ToJson());
        // A diverged run keeps its checkpoint (the last finite weights' state) for inspection.
        if (divergence is null) File.Delete(folder.CheckpointPath);
        provenance.End(divergence is null ? "finished" : "diverged", summary.Iterations);
        return summary;
    }
}
