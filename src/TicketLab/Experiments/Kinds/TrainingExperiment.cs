using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;
using TicketLab.Hyperparameters;

namespace TicketLab.Experiments.Kinds;

/// <summary><c>train_&lt;hash&gt;/replicate_N</c>: one training run per replicate (<c>ticketlab train</c>).</summary>
public class TrainingExperiment : ExperimentKind<NoHparams>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => TicketLab.Hyperparameters.TrainingDesc.Prefix;
    public override string Title => "Training run";
    public override string? CommandDescription => "Train a network. Results go to <root>/train_<hash>/replicate_<n>; a finished run is not run again, an interrupted one resumes.";
    public override ReplicateFlags ReplicateFlags => ReplicateFlags.One;

    protected override string EntryName(ExperimentInputs inputs, NoHparams hparams) => inputs.Training.RunName;

    protected override ExperimentOutcome Run(ExperimentRequest request, NoHparams hparams)
    {
        var desc = request.Inputs.Training;
        int replicate = request.Inputs.Replicates[0];
        var log = request.Log;
        log.WriteLine($"Hyperparameters ({desc.RunName}, replicate {replicate}):");
        log.Write(desc.Describe());
        log.WriteLine($"Output: {request.Context.Store.ReplicateFolder(desc.RunName, replicate)}");

        var summary = request.Progress.Track(request.Context, c => TrainingRunner.Train(desc, replicate, request.Options, c));
        var json = summary.ToJson();
        json["folder"] = summary.Folder;
        json["already_finished"] = summary.AlreadyFinished;
        var notes = new List<string>();
        if (summary.AlreadyFinished) notes.Add("This run had already finished; showing its stored summary.");
        if (!summary.Diverged)
        {
            notes.Add(string.Create(Invariant,
                $"Final test accuracy {summary.FinalTestAccuracy:P2} (loss {summary.FinalTestLoss:F4}); best {summary.BestTestAccuracy:P2} at iteration {summary.BestTestAccuracyStep}."));
            if (double.IsFinite(summary.SecondsPerEpoch))
                notes.Add(string.Create(Invariant, $"{summary.SecondsPerEpoch:F2} s per epoch (evaluation included), {summary.ImagesPerSecond:N0} training images/s."));
        }
        // A diverged run is recorded, and ends with its own exit code.
        string[] errors = summary.Diverged ? [new RunDivergedException(summary, "The run").Message] : [];
        return new ExperimentOutcome(desc.RunName) { Notes = notes, Json = json, Errors = errors, ExitCode = errors.Length > 0 ? ExperimentOutcome.Diverged : 0 };
    }

    protected override ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder)
    {
        var hparams = folder.ReadHparams();
        var summary = TrainingSummary.Read(folder);
        var state = StateOf(folder);
        string detail = summary is { Diverged: true } ? summary.DivergenceText : state.ToString().ToLowerInvariant();
        return new ListEntry(experiment, Name, replicate, state, detail, folder.Path)
        {
            Model = Field(hparams, "model", "model_name"), Dataset = Field(hparams, "dataset", "dataset_name"), Summary = summary,
        };
    }

    public override JsonObject? Hyperparameters(ExperimentRef experiment) =>
        new RunFolder(Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().First()).ReadHparams();

    public override IEnumerable<ResultRow> Results(ExperimentRef experiment) =>
        ReplicateFolders(experiment.Path)
            .Select(r => (r.Replicate, Summary: TrainingSummary.Read(new RunFolder(r.Folder))))
            .Where(r => r.Summary is not null)
            .SelectMany(r => TrainingResults(experiment.Name, r.Replicate, "run", r.Summary!));

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var replicates = Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().Select(d => new RunFolder(d)).Where(r => File.Exists(r.MetricsPath) || r.IsFinished).ToArray();
        Series Metric(RunFolder run, string metric, string label)
        {
            var rows = run.ReadMetrics().Where(r => r.Name == metric).ToArray();
            string replicate = System.IO.Path.GetFileName(run.Path).Replace('_', ' ');
            return new Series(replicates.Length > 1 ? $"{replicate}: {label}" : label, rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => r.Value).ToArray());
        }
        var accuracy = new Figure("test_accuracy_vs_step", "Test accuracy during training", "training step (iterations)", "test accuracy (%)",
            replicates.Select(r => Metric(r, "test_accuracy", "test accuracy")).ToArray()) { YPercent = true, XColumn = "step", YColumn = "test_accuracy" };
        var loss = new Figure("loss_vs_step", "Loss during training", "training step (iterations)", "cross-entropy loss",
            replicates.SelectMany(r => new[]
            {
                Metric(r, "test_loss", "test loss"),
                Metric(r, MetricsLog.TrainLossEpochMean, "training loss (mean over the epoch)") with { Dashed = true },
            }).ToArray()) { XColumn = "step", YColumn = "loss" };
        var summary = new ReportTable("Summary", ["replicate", "final test accuracy", "best test accuracy", "seconds per epoch", "images/s"],
            replicates.Select(r => TrainingSummary.Read(r) switch
            {
                { Diverged: true } s => (IReadOnlyList<string>)[System.IO.Path.GetFileName(r.Path), s.DivergenceText, "-", "-", "-"],
                { } s => [System.IO.Path.GetFileName(r.Path), ExperimentReports.P(s.FinalTestAccuracy), ExperimentReports.P(s.BestTestAccuracy),
                    double.IsFinite(s.SecondsPerEpoch) ? s.SecondsPerEpoch.ToString("F2", Invariant) : "-",
                    double.IsFinite(s.ImagesPerSecond) ? s.ImagesPerSecond.ToString("N0", Invariant) : "-"],
                null => [System.IO.Path.GetFileName(r.Path), "unfinished", "-", "-", "-"],
            }).ToArray());
        return new Report($"Training run {experiment.Name}", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)),
            [new ReportSection("Training", [summary], [accuracy, loss])]);
    }

}

/// <summary><c>rewind_parent_&lt;hash&gt;</c>: the run a rewind sweep's copies start from, trained up to the sweep's last step.</summary>
public sealed class RewindParentExperiment : TrainingExperiment
{
    public override string Name => "rewind_parent";
    public override string Title => "Rewind-sweep parent run";
    public override string? CommandDescription => null; // made by rewind-sweep, not by a command of its own
}
