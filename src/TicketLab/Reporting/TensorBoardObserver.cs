using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Reporting;

/// <summary>
/// Writes a run's metrics as TensorBoard scalars (<see cref="TensorBoardEventFile"/>): every row of
/// its metrics.csv (<see cref="MetricsLog"/>) becomes one scalar, at the row's step (the iterations
/// done, as metrics.csv counts them), with its value as a float, and nothing else is written. Tags:
/// <list type="bullet">
/// <item><c>learning_rate</c> becomes <c>train/learning_rate</c>;</item>
/// <item>every other metric has its first <c>_</c> turned into <c>/</c>, so that TensorBoard groups the
/// scalars by split: <c>test_accuracy</c>, <c>test_loss</c> become <c>test/accuracy</c>, <c>test/loss</c>;
/// <c>train_loss_epoch_mean</c>, <c>train_accuracy_epoch_mean</c> become <c>train/loss_epoch_mean</c>,
/// <c>train/accuracy_epoch_mean</c>; with --eval-train, <c>train_loss</c>, <c>train_accuracy</c> become
/// <c>train/loss</c>, <c>train/accuracy</c>.</item>
/// </list>
/// Rows are written as soon as a callback sees them, so the event file follows metrics.csv closely.
/// </summary>
public sealed class TensorBoardObserver(TensorBoardEventFile events, MetricsLog metrics) : ITrainingCallback
{
    public const string LearningRateTag = "train/learning_rate";
    private int metricsWritten;

    /// <summary>The event file being written.</summary>
    public TensorBoardEventFile Events => events;

    /// <summary>An observer writing under <paramref name="logRoot"/>, in a folder named like the run's path in the store.</summary>
    public static TensorBoardObserver Create(string logRoot, ExperimentStore store, RunFolder folder, MetricsLog metrics) =>
        new(TensorBoardEventFile.Create(Path.Combine(logRoot, Path.GetRelativePath(store.Root, folder.Path))), metrics);

    public void AtStep(TrainingState state) => WriteNewRows();

    public void AfterIteration(TrainingState state, IterationResult result) => WriteNewRows();

    public void OnInterrupted(TrainingState state) => WriteNewRows();

    public void OnDiverged(TrainingState state, double loss) => WriteNewRows();

    private void WriteNewRows()
    {
        if (metricsWritten >= metrics.Rows.Count) return;
        var rows = metrics.Rows.Skip(metricsWritten).ToArray();
        events.AddScalars(rows.Select(row => (TagOf(row.Name), row.Step, (float)row.Value)));
        metricsWritten += rows.Length;
    }

    /// <summary>The TensorBoard tag of a metrics.csv name (see the class summary).</summary>
    public static string TagOf(string metric)
    {
        if (metric == MetricsLog.LearningRate) return LearningRateTag;
        int split = metric.IndexOf('_');
        return split < 0 ? metric : $"{metric[..split]}/{metric[(split + 1)..]}";
    }
}
