using System.Diagnostics;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Store;

namespace TicketLab.Training;

/// <summary>When a callback fires.</summary>
public static class When
{
    public static Func<Step, bool> EveryEpoch => step => step.IsEpochStart;

    public static Func<Step, bool> AtSteps(IEnumerable<Step> steps)
    {
        var set = steps.Select(s => s.Iteration).ToHashSet();
        return step => set.Contains(step.Iteration);
    }

    public static Func<Step, bool> Or(this Func<Step, bool> a, Func<Step, bool> b) => step => a(step) || b(step);
}

/// <summary>Evaluates on a dataset and logs <c>{prefix}_loss</c> and <c>{prefix}_accuracy</c>; also always at the end.</summary>
public sealed class EvaluationCallback(ImageDataset dataset, string prefix, Func<Step, bool> when, MetricsLog log) : ITrainingCallback
{
    public EvaluationResult? Last { get; private set; }
    public event Action<Step, EvaluationResult>? Evaluated;

    public void AtStep(TrainingState state)
    {
        if (!when(state.Step) && !state.IsEnd) return;
        var result = Evaluator.Evaluate(state.Model, dataset);
        log.Add($"{prefix}_loss", state.Step.Iteration, result.Loss);
        log.Add($"{prefix}_accuracy", state.Step.Iteration, result.Accuracy);
        Last = result;
        Evaluated?.Invoke(state.Step, result);
    }
}

/// <summary>Saves the model's weights at chosen steps (the states that later runs rewind to).</summary>
public sealed class SaveModelCallback(RunFolder folder, Func<Step, bool> when) : ITrainingCallback
{
    public void AtStep(TrainingState state)
    {
        if (when(state.Step) && !File.Exists(folder.ModelPath(state.Step))) Save(state, folder.ModelPath(state.Step));
        if (state.IsEnd) Save(state, folder.FinalModelPath);
    }

    private void Save(TrainingState state, string path)
    {
        ModelState.Save(state.Model, path);
        if (folder.Manifest is not null) folder.Record(path);
    }
}

/// <summary>A callback whose state spans steps (running sums), saved in checkpoints so that a resumed run logs what an uninterrupted one would.</summary>
public interface IResumableCallback
{
    string StateKey { get; }
    System.Text.Json.Nodes.JsonNode SaveState();
    void RestoreState(System.Text.Json.Nodes.JsonNode state);
}

/// <summary>
/// Writes the resumable checkpoint at every epoch start, when interrupted and when training
/// diverges. Must run first at each step: it counts the metric rows logged before the step, and
/// a resumed run logs that step's evaluations again.
/// </summary>
public sealed class CheckpointCallback(RunFolder folder, string run, MetricsLog metrics, IReadOnlyList<IResumableCallback> resumables) : ITrainingCallback
{
    private long lastSaved = -1;
    private int rowsBeforeStep;

    public void AtStep(TrainingState state)
    {
        rowsBeforeStep = metrics.Rows.Count;
        if (state.Step.IsEpochStart && !state.IsEnd && state.Step.Iteration != lastSaved) Save(state);
    }

    public void OnInterrupted(TrainingState state)
    {
        if (state.Step.Iteration != lastSaved) Save(state);
    }

    public void OnDiverged(TrainingState state, double loss) => OnInterrupted(state);

    private void Save(TrainingState state)
    {
        var callbackState = new System.Text.Json.Nodes.JsonObject();
        foreach (var callback in resumables) callbackState[callback.StateKey] = callback.SaveState();
        Checkpoint.Save(folder.CheckpointPath, new CheckpointHeader(state.Step, rowsBeforeStep, callbackState, run), state.Model, state.Optimizer);
        lastSaved = state.Step.Iteration;
    }

    /// <summary>Restores the resumable callbacks from a checkpoint's header.</summary>
    public static void Restore(CheckpointHeader header, IEnumerable<IResumableCallback> resumables)
    {
        foreach (var callback in resumables)
            if (header.CallbackState[callback.StateKey] is { } state) callback.RestoreState(state);
    }
}

/// <summary>
/// Logs, at the step that ends each epoch (and at the end of training), the mean training loss and
/// accuracy over the epoch's iterations (<see cref="MetricsLog.TrainLossEpochMean"/>,
/// <see cref="MetricsLog.TrainAccuracyEpochMean"/>) and the learning rate of its last iteration,
/// all at the same step as that step's evaluations (see <see cref="MetricsLog"/> for what a step is).
/// </summary>
public sealed class TrainingMetricsCallback : ITrainingCallback, IResumableCallback
{
    /// <summary>Set once the log is open (after the checkpoint, which restores this callback, is read).</summary>
    public MetricsLog? Log { get; set; }

    public string StateKey => "training_metrics";

    public System.Text.Json.Nodes.JsonNode SaveState() =>
        new System.Text.Json.Nodes.JsonObject { ["loss_sum"] = lossSum, ["correct"] = correct, ["examples"] = examples };

    public void RestoreState(System.Text.Json.Nodes.JsonNode state)
    {
        lossSum = (double)state["loss_sum"]!;
        correct = (long)state["correct"]!;
        examples = (long)state["examples"]!;
    }

    private double lossSum;
    private long correct, examples;

    public void AfterIteration(TrainingState state, IterationResult result)
    {
        lossSum += result.Loss * result.Examples;
        correct += result.Correct;
        examples += result.Examples;
        var next = result.Step.Next;
        if (!next.IsEpochStart && next.Iteration != state.End.Iteration) return;
        Log?.Add(MetricsLog.TrainLossEpochMean, next.Iteration, lossSum / examples);
        Log?.Add(MetricsLog.TrainAccuracyEpochMean, next.Iteration, DataNumbers.Fraction(correct, examples));
        Log?.Add(MetricsLog.LearningRate, next.Iteration, result.LearningRate);
        lossSum = 0;
        correct = examples = 0;
    }
}

/// <summary>Times training: wall seconds per epoch (evaluation included) and images per second of the iterations alone.</summary>
public sealed class TimingCallback : ITrainingCallback
{
    private readonly Stopwatch wall = new();
    private readonly Stopwatch iterations = new();
    private long firstIteration = -1, lastIteration;
    private long images;
    private int iterationsPerEpoch = 1;

    private readonly List<double> epochStarts = [];

    public void AtStep(TrainingState state)
    {
        if (firstIteration < 0)
        {
            firstIteration = state.Step.Iteration;
            iterationsPerEpoch = state.Step.IterationsPerEpoch;
            wall.Start();
        }
        lastIteration = state.Step.Iteration;
        // This callback runs last, so the mark falls after the evaluations at this step: an epoch's span includes the evaluation that ends it.
        // Marks only at epoch starts, so that a run ending (or resumed) mid-epoch adds no partial span.
        if (state.Step.IsEpochStart) epochStarts.Add(wall.Elapsed.TotalSeconds);
        if (state.IsEnd) wall.Stop();
        else iterations.Start();
    }

    /// <summary>
    /// Median wall seconds of the whole epochs after the first (evaluation included): a steady
    /// figure to compare with other programs, without the first epoch's one-off costs (kernel
    /// selection, page faults, JIT). With a single whole epoch, that epoch; NaN when there is none.
    /// </summary>
    public double MedianEpochSeconds => MedianOfSteadyEpochs(epochStarts);

    /// <summary>The median span between consecutive epoch-start clock readings, the first span left out when there are several.</summary>
    public static double MedianOfSteadyEpochs(IReadOnlyList<double> epochStarts)
    {
        var epochs = epochStarts.Zip(epochStarts.Skip(1), (start, end) => end - start).ToArray();
        var steady = (epochs.Length > 1 ? epochs[1..] : epochs).Order().ToArray();
        return steady.Length == 0 ? double.NaN
            : steady.Length % 2 == 1 ? steady[steady.Length / 2] : (steady[steady.Length / 2 - 1] + steady[steady.Length / 2]) / 2;
    }

    public void AfterIteration(TrainingState state, IterationResult result)
    {
        iterations.Stop();
        images += result.Examples;
    }

    public double EpochsTrained => firstIteration < 0 ? 0 : (double)(lastIteration - firstIteration) / iterationsPerEpoch;
    public double WallSeconds => wall.Elapsed.TotalSeconds;
    public double SecondsPerEpoch => EpochsTrained > 0 ? WallSeconds / EpochsTrained : double.NaN;
    public double ImagesPerSecond => images > 0 ? images / iterations.Elapsed.TotalSeconds : double.NaN;
}
