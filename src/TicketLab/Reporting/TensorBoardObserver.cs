using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Reporting;

/// <summary>
/// Writes a run's progress as TensorBoard scalars with TorchSharp's own
/// <c>torch.utils.tensorboard.SummaryWriter</c>: the training loss and accuracy every few
/// iterations, the learning rate (under one tag, <c>train/learning_rate</c>), every evaluation as
/// it is logged (<c>test_accuracy</c> becomes <c>test/accuracy</c>), and the sparsity of the prunable weights.
/// </summary>
public sealed class TensorBoardObserver(SummaryWriter writer, MetricsLog metrics) : ITrainingCallback
{
    private const int Every = 20;
    public const string LearningRateTag = "train/learning_rate";
    private int metricsWritten;
    private bool sparsityWritten;
    private double loss, correct, examples;

    /// <summary>An observer writing under <paramref name="logRoot"/>, in a folder named like the run's path in the store.</summary>
    public static TensorBoardObserver Create(string logRoot, ExperimentStore store, RunFolder folder, MetricsLog metrics) =>
        new(utils.tensorboard.SummaryWriter(Path.Combine(logRoot, Path.GetRelativePath(store.Root, folder.Path)), createRunName: false), metrics);

    public void AtStep(TrainingState state)
    {
        if (!sparsityWritten) WriteSparsity(state);
        for (; metricsWritten < metrics.Rows.Count; metricsWritten++)
        {
            var row = metrics.Rows[metricsWritten];
            // The learning rate is written from the iterations below, at the step it was used.
            if (row.Name == "learning_rate") continue;
            writer.add_scalar(TagOf(row.Name), (float)row.Value, checked((int)row.Step));
        }
    }

    public void AfterIteration(TrainingState state, IterationResult result)
    {
        loss += result.Loss * result.Examples;
        correct += result.Correct;
        examples += result.Examples;
        if ((result.Step.Iteration + 1) % Every != 0 && !result.Step.Next.IsEpochStart) return;
        int step = checked((int)result.Step.Iteration);
        writer.add_scalar("train/loss", (float)(loss / examples), step);
        writer.add_scalar("train/accuracy", (float)(correct / examples), step);
        writer.add_scalar(LearningRateTag, (float)result.LearningRate, step);
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
        writer.add_scalar("sparsity", (float)zeros / total, checked((int)state.Step.Iteration));
        sparsityWritten = true;
    }

    /// <summary>test_accuracy becomes test/accuracy, so TensorBoard groups the scalars by split.</summary>
    private static string TagOf(string metric)
    {
        int split = metric.IndexOf('_');
        return split < 0 ? metric : $"{metric[..split]}/{metric[(split + 1)..]}";
    }
}
