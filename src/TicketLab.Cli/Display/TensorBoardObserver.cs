using TicketLab.Reporting.TensorBoard;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Cli.Display;

/// <summary>
/// Writes a run's progress as TensorBoard scalars: training loss, accuracy and learning rate
/// every few iterations, every evaluation as it is logged, and the sparsity of the prunable weights.
/// </summary>
internal sealed class TensorBoardObserver(TensorBoardWriter writer, MetricsLog metrics) : ITrainingCallback, IDisposable
{
    private const int Every = 20;
    private int metricsWritten;
    private bool sparsityWritten;
    private double loss, correct, examples;

    public void AtStep(TrainingState state)
    {
        if (!sparsityWritten) WriteSparsity(state);
        for (; metricsWritten < metrics.Rows.Count; metricsWritten++)
        {
            var row = metrics.Rows[metricsWritten];
            writer.AddScalar(TagOf(row.Name), row.Step, row.Value);
        }
        if (state.IsEnd) writer.Dispose();
    }

    public void OnInterrupted(TrainingState state) => writer.Dispose();

    public void AfterIteration(TrainingState state, IterationResult result)
    {
        loss += result.Loss * result.Examples;
        correct += result.Correct;
        examples += result.Examples;
        if ((result.Step.Iteration + 1) % Every != 0 && !result.Step.Next.IsEpochStart) return;
        writer.AddScalar("train/loss", result.Step.Iteration, loss / examples);
        writer.AddScalar("train/accuracy", result.Step.Iteration, correct / examples);
        writer.AddScalar("train/learning_rate", result.Step.Iteration, result.LearningRate);
        loss = correct = examples = 0;
    }

    private void WriteSparsity(TrainingState state)
    {
        using var _ = no_grad();
        var weights = state.Model.NamedParameterMap();
        long total = 0, zeros = 0;
        foreach (var name in state.Model.PrunableParameterNames)
        {
            total += weights[name].numel();
            using var zero = weights[name].eq(0).sum();
            zeros += zero.item<long>();
        }
        writer.AddScalar("sparsity", state.Step.Iteration, (double)zeros / total);
        sparsityWritten = true;
    }

    /// <summary>test_accuracy becomes test/accuracy, so TensorBoard groups the scalars by split.</summary>
    private static string TagOf(string metric)
    {
        int split = metric.IndexOf('_');
        return split < 0 ? metric : $"{metric[..split]}/{metric[(split + 1)..]}";
    }

    public void Dispose() => writer.Dispose();

    public static TensorBoardObserver Create(string logRoot, ExperimentStore store, RunFolder folder, MetricsLog metrics) =>
        new(new TensorBoardWriter(Path.Combine(logRoot, Path.GetRelativePath(store.Root, folder.Path))), metrics);
}
