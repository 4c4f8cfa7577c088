using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Cli.Display;

/// <summary>Latest values of a run for display: running training loss and accuracy, last test accuracy, speed.</summary>
internal sealed class RunningStats
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Stopwatch sinceStart = Stopwatch.StartNew();
    private double loss, correct, examples;
    private long imagesSinceTick, images;
    private double tickRate = double.NaN;

    /// <summary>Over the last second; until a second has passed, over all iterations so far (never a false 0).</summary>
    public double ImagesPerSecond => double.IsFinite(tickRate) ? tickRate : images > 0 ? images / sinceStart.Elapsed.TotalSeconds : double.NaN;

    public void Add(IterationResult result)
    {
        // Exponential moving average over recent iterations, as a progress bar should show.
        const double keep = 0.98;
        loss = keep * loss + (1 - keep) * result.Loss * result.Examples;
        correct = keep * correct + (1 - keep) * result.Correct;
        examples = keep * examples + (1 - keep) * result.Examples;
        imagesSinceTick += result.Examples;
        images += result.Examples;
        if (clock.Elapsed.TotalSeconds >= 1)
        {
            tickRate = imagesSinceTick / clock.Elapsed.TotalSeconds;
            imagesSinceTick = 0;
            clock.Restart();
        }
    }

    public double Loss => examples > 0 ? loss / examples : double.NaN;
    public double Accuracy => examples > 0 ? correct / examples : double.NaN;

    public static double? LastTestAccuracy(MetricsLog metrics) =>
        metrics.Rows.LastOrDefault(r => r.Name == "test_accuracy") is { Name: not null } row ? row.Value : null;

    public string Describe(MetricsLog metrics)
    {
        // Figures not known yet (before the first iteration of a resumed run) print as "-", never NaN or 0.
        static string Known(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";
        string test = LastTestAccuracy(metrics) is { } acc ? $"test {Known(acc, "P2")}" : "test -";
        return $"loss {Known(Loss, "F4")}  acc {Known(Accuracy, "P1")}  {test}  {Known(ImagesPerSecond, "N0")} img/s";
    }
}

/// <summary>Drives a Spectre.Console progress bar from the training loop.</summary>
internal sealed class ProgressBarObserver(ProgressTask task, MetricsLog metrics, string label) : ITrainingCallback
{
    private readonly RunningStats stats = new();

    public void AtStep(TrainingState state)
    {
        task.MaxValue = state.End.Iteration;
        task.Value = state.Step.Iteration;
        if (state.Step.IsEpochStart || state.IsEnd) task.Description = $"{Markup.Escape(label)}  {stats.Describe(metrics)}";
    }

    public void AfterIteration(TrainingState state, IterationResult result)
    {
        stats.Add(result);
        task.Value = result.Step.Iteration + 1;
        if (result.Step.Iteration % 25 == 0) task.Description = $"{Markup.Escape(label)}  {stats.Describe(metrics)}";
    }
}

/// <summary>
/// One plain line per epoch (and at the end), for logs and --quiet, showing what the run stores for that
/// step, so that the log matches its files: the mean training loss and accuracy over the epoch ending there
/// (metrics.csv's <c>train_loss_epoch_mean</c>, <c>train_accuracy_epoch_mean</c>), the test accuracy
/// evaluated there (<c>test_accuracy</c>), and the training images per second so far, measured as
/// summary.json's <c>images_per_second</c> is (the iterations alone; the last line's is that figure).
/// A figure the run has not stored at the step prints as "-".
/// </summary>
internal sealed class EpochLogObserver(TextWriter output, MetricsLog metrics, TimingCallback timing, string label) : ITrainingCallback
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public void AtStep(TrainingState state)
    {
        if (!state.Step.IsEpochStart && !state.IsEnd) return;
        long epochs = state.End.Iteration / state.Step.IterationsPerEpoch;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label} epoch {state.Step.Epoch}/{epochs} it {state.Step.Iteration}: {Describe(state.Step.Iteration)}  ({clock.Elapsed.TotalSeconds:F1} s)"));
        output.Flush();
    }

    /// <summary>"loss 0.1234  acc 96.1%  test 95.31%  12,345 img/s", from the rows logged at <paramref name="step"/>.</summary>
    private string Describe(long step)
    {
        double At(string name) => metrics.Rows.LastOrDefault(r => r.Name == name && r.Step == step) is { Name: not null } row ? row.Value : double.NaN;
        static string Known(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";
        return $"loss {Known(At(MetricsLog.TrainLossEpochMean), "F4")}  acc {Known(At(MetricsLog.TrainAccuracyEpochMean), "P1")}  "
            + $"test {Known(At("test_accuracy"), "P2")}  {Known(timing.ImagesPerSecond, "N0")} img/s";
    }
}
