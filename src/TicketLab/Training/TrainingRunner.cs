using System.Text.Json.Nodes;
using TicketLab.Data;
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
        if (Finished(folder) is { } done) return done;

        // Data first: a run that cannot start leaves nothing in the store.
        var (train, test) = context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device);
        using var runLock = AcquireLock(folder, context);
        if (Finished(folder) is { } doneMeanwhile) return doneMeanwhile;

        var dataFiles = DataFilesOf(train, test);
        using var setup = TrainingSetup.Create(desc, replicate, train, context.Device, start, options.StopAt);
        string run = OpenRun(folder, desc, replicate, setup, options, context, dataFiles, start, extraHparams);
        AnnounceData(context, dataFiles);

        var trainingMetrics = new TrainingMetricsCallback();
        IResumableCallback[] resumables = [trainingMetrics];
        var (first, keepRows) = Resume(folder, run, setup, resumables, context);

        using var metrics = new MetricsLog(folder.MetricsPath);
        metrics.Open(keepRows);
        trainingMetrics.Log = metrics;

        var (callbacks, testEvaluation, timing) = BuildCallbacks(folder, run, options, context, setup, train, test, metrics, resumables, trainingMetrics);
        var loop = setup.Loop(desc.Training, callbacks);
        var provenance = Provenance.Begin(folder, context.Device, dataFiles, first);
        var divergence = RunLoop(loop, first, setup.End, context, provenance);

        return Finish(folder, Summarize(folder, setup, metrics, testEvaluation, timing, divergence), divergence, provenance);
    }

    /// <summary>The files a run's data comes from, each once (a dataset may keep train and test in one file).</summary>
    internal static DataFile[] DataFilesOf(ImageDataset train, ImageDataset test) => train.Files.Concat(test.Files).DistinctBy(f => f.Path).ToArray();

    /// <summary>
    /// What a run does, alone or as a member of a stack, before its first step: steps within the run,
    /// its manifest (data and inputs checked) begun before hparams.json is written. Returns the run's name.
    /// </summary>
    internal static string OpenRun(RunFolder folder, TrainingDesc desc, int replicate, TrainingSetup setup, RunOptions options, RunContext context,
        DataFile[] dataFiles, TrainingStart? start, JsonObject? extraHparams)
    {
        RequireWithinRun(options, setup);
        string run = RunName(folder, context);
        BeginManifest(folder, run, dataFiles, start?.Inputs ?? []);
        WriteHparams(folder, desc, replicate, dataFiles, extraHparams);
        return run;
    }

    /// <summary>Names each data file with its checksum the first time this process trains on it.</summary>
    internal static void AnnounceData(RunContext context, DataFile[] dataFiles)
    {
        foreach (var file in context.Data.NotYetAnnounced(dataFiles)) context.Log.WriteLine($"Data: {file.Path} (sha256 {file.Sha256[..16]})");
    }

    /// <summary>
    /// Ends a run that trained to its end or diverged (alone or as a member of a stack): its metrics
    /// and summary.json recorded in its manifest, its checkpoint gone, its provenance session closed.
    /// </summary>
    internal static TrainingSummary Finish(RunFolder folder, TrainingSummary summary, Divergence? divergence, Provenance provenance)
    {
        folder.Record(folder.MetricsPath);
        folder.WriteRecordedJson(folder.SummaryPath, summary.ToJson());
        // A diverged run keeps its checkpoint (the last finite weights' state) for inspection.
        if (divergence is null) File.Delete(folder.CheckpointPath);
        provenance.End(divergence is null ? "finished" : "diverged", summary.Iterations);
        return summary;
    }

    /// <summary>A finished run's summary, its hyperparameters checked against its manifest (a finished run is reused, never retrained); null when it has not finished.</summary>
    internal static TrainingSummary? Finished(RunFolder folder)
    {
        if (TrainingSummary.Read(folder) is not { } done) return null;
        folder.Verified(folder.HparamsPath);
        return done;
    }

    /// <summary>Steps to save or evaluate at must lie within the run: one past its end would silently never happen.</summary>
    private static void RequireWithinRun(RunOptions options, TrainingSetup setup)
    {
        foreach (var (flag, steps) in new[] { ("--save-steps", options.SaveSteps), ("--eval-steps", options.EvaluateSteps) })
            if (steps.FirstOrDefault(s => s.ToStep(setup.IterationsPerEpoch) > setup.End) is { } late && !late.Equals(default(StepSpec)))
                throw new HparamException(flag, $"{late} (iteration {late.ToStep(setup.IterationsPerEpoch).Iteration}) lies past the end of the run (iteration {setup.End.Iteration}); it would never be reached. Choose steps up to the end.");
    }

    /// <summary>Refuses, before any work, data other than what <paramref name="run"/> (when it has started) was trained on.</summary>
    public static void RequireRecordedData(RunFolder run, TrainingDesc desc, RunContext context)
    {
        if (run.Manifest is not { } manifest) return;
        var (train, test) = context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device);
        manifest.RequireSameData(DataFilesOf(train, test).Select(f => (f.Path, f.Sha256)), $"the run {manifest.Run}");
    }

    /// <summary>The name a run's manifest and checkpoints carry: its folder relative to the store root (so a moved store keeps its names).</summary>
    public static string RunName(RunFolder folder, RunContext context) => context.Store.RunName(folder.Path);

    /// <summary>
    /// Starts or reopens the run's manifest before anything is written: a resumed run must train on
    /// the data it started with; the files it starts from (another run's weights, its own mask) must
    /// be what their runs wrote, and another run's on the same data; all of them are recorded.
    /// </summary>
    private static void BeginManifest(RunFolder folder, string run, DataFile[] dataFiles, IReadOnlyList<RunInput> inputs)
    {
        var current = dataFiles.Select(f => (f.Path, f.Sha256)).ToArray();
        var manifest = folder.BeginManifest(run);
        manifest.RequireSameData(current, $"the run {run}");
        foreach (var input in inputs)
        {
            input.Owner.Verified(input.File);
            bool own = input.Owner.Path == folder.Path;
            if (own)
            {
                if (manifest.Files.ContainsKey(folder.RelativePath(input.File))) continue;
                folder.Record(input.File);
            }
            else
            {
                input.Owner.Manifest?.RequireSameData(current, $"the run {input.Owner.Manifest.Run} (whose {Path.GetFileName(input.File)} this run starts from)");
                manifest.RecordInput(new RecordedFile(folder.RelativePath(input.File), RunManifest.Sha256Of(input.File)));
            }
        }
        manifest.SetDataFiles(dataFiles.Select(f => new RecordedFile(Path.GetFileName(f.Path), f.Sha256)));
        Directory.CreateDirectory(folder.Path);
        manifest.Save(folder.Path);
    }

    /// <summary>The run's lock: waited for when the context says so (a cancelled wait throws), else taken or refused at once.</summary>
    internal static RunLock AcquireLock(RunFolder folder, RunContext context) =>
        context.WaitForLocks
            ? RunLock.AcquireWaiting(folder.Path, context.Cancellation, holder => context.Log.WriteLine($"Waiting: {holder}."))
                ?? throw new OperationCanceledException(context.Cancellation)
            : RunLock.Acquire(folder.Path);

    /// <summary>hparams.json: the description, the seeds it resolves to, the data files (by hash) and the caller's extra entries.</summary>
    private static void WriteHparams(RunFolder folder, TrainingDesc desc, int replicate, DataFile[] dataFiles, JsonObject? extraHparams)
    {
        var hparams = desc.ToJson();
        hparams["replicate"] = replicate;
        hparams["model_init_seed"] = ModelSeed(desc, replicate);
        hparams["data_order_seed"] = DataOrderSeed(desc, replicate);
        hparams["run_name"] = desc.RunName;
        hparams["data_files"] = new JsonArray(dataFiles.Select(f => (JsonNode)new JsonObject { ["path"] = f.Path, ["sha256"] = f.Sha256 }).ToArray());
        if (extraHparams is not null)
            foreach (var (key, value) in extraHparams) hparams[key] = value?.DeepClone();
        folder.WriteRecordedJson(folder.HparamsPath, hparams);
    }

    /// <summary>
    /// Where training continues: the run's origin, or the step of an interrupted run's checkpoint, whose
    /// model, optimizer and callback state it restores; and how many metric rows to keep from before then.
    /// </summary>
    internal static (Step First, int KeepRows) Resume(RunFolder folder, string run, TrainingSetup setup, IResumableCallback[] resumables, RunContext context)
    {
        Step first = setup.Origin;
        int keepRows = 0;
        if (File.Exists(folder.CheckpointPath))
        {
            var header = Checkpoint.Load(folder.CheckpointPath, setup.Model, setup.Optimizer, setup.Origin, setup.End, run);
            first = header.Step;
            keepRows = header.MetricRows;
            CheckpointCallback.Restore(header, resumables);
            context.Log.WriteLine($"Resuming {folder.Path} from step {first} (iteration {first.Iteration}).");
        }
        return (first, keepRows);
    }

    /// <summary>
    /// The callbacks of a run, in the order they run, with the two whose results the summary reads:
    /// the test-set evaluation and the timing.
    /// </summary>
    internal static (List<ITrainingCallback> All, EvaluationCallback TestEvaluation, TimingCallback Timing) BuildCallbacks(RunFolder folder, string run,
        RunOptions options, RunContext context, TrainingSetup setup, ImageDataset train, ImageDataset test, MetricsLog metrics,
        IResumableCallback[] resumables, TrainingMetricsCallback trainingMetrics)
    {
        int perEpoch = setup.IterationsPerEpoch;
        var origin = setup.Origin;
        var evaluateWhen = options.EvaluateEveryEpoch ? When.EveryEpoch : (_ => false);
        // With per-epoch evaluation the starting point is evaluated too: for a rewound ticket it is the accuracy before retraining.
        var extraEvaluations = options.EvaluateSteps.Select(s => s.ToStep(perEpoch));
        if (options.EvaluateEveryEpoch) extraEvaluations = extraEvaluations.Append(origin);
        evaluateWhen = evaluateWhen.Or(When.AtSteps(extraEvaluations));
        var timing = new TimingCallback();
        var testEvaluation = new EvaluationCallback(test, "test", evaluateWhen, metrics);
        var callbacks = new List<ITrainingCallback>
        {
            new CheckpointCallback(folder, run, metrics, resumables), // first: it counts the rows logged before each step
            new SaveModelCallback(folder, When.AtSteps(options.SaveSteps.Select(s => s.ToStep(perEpoch)).Append(Step.Zero(perEpoch)).Append(origin))),
            testEvaluation,
        };
        if (options.EvaluateTrainSet) callbacks.Add(new EvaluationCallback(train, "train", evaluateWhen, metrics));
        callbacks.Add(trainingMetrics);
        callbacks.AddRange(context.Observers(folder, metrics, timing));
        callbacks.Add(timing);
        return (callbacks, testEvaluation, timing);
    }

    /// <summary>Runs the loop; a run that throws is recorded in provenance.json as interrupted (cancelled) or failed.</summary>
    private static Divergence? RunLoop(TrainingLoop loop, Step first, Step end, RunContext context, Provenance provenance)
    {
        try
        {
            return loop.Run(first, end, context.Cancellation);
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
    }

    /// <summary>The summary of a finished or diverged run; a diverged run has no final accuracy or loss (NaN).</summary>
    internal static TrainingSummary Summarize(RunFolder folder, TrainingSetup setup, MetricsLog metrics, EvaluationCallback testEvaluation,
        TimingCallback timing, Divergence? divergence)
    {
        var testAccuracies = metrics.Rows.Where(r => r.Name == "test_accuracy").ToArray();
        var best = testAccuracies.Length > 0 ? testAccuracies.MaxBy(r => r.Value) : new MetricRow("test_accuracy", 0, double.NaN);
        var final = divergence is null ? testEvaluation.Last!.Value : new EvaluationResult(double.NaN, double.NaN, 0);
        return new TrainingSummary
        {
            Folder = folder.Path,
            FinalTestAccuracy = final.Accuracy,
            FinalTestLoss = final.Loss,
            BestTestAccuracy = best.Value,
            BestTestAccuracyStep = best.Step,
            Iterations = divergence?.Step.Iteration ?? setup.End.Iteration,
            IterationsPerEpoch = setup.IterationsPerEpoch,
            SecondsPerEpoch = timing.SecondsPerEpoch,
            MedianEpochSeconds = timing.MedianEpochSeconds,
            ImagesPerSecond = timing.ImagesPerSecond,
            WallSeconds = timing.WallSeconds,
            DivergedAtStep = divergence?.Step.Iteration,
            DivergenceCause = divergence?.Cause,
        };
    }
}
