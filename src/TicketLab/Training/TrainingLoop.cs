using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>What callbacks see: the model and optimizer, and where training stands.</summary>
public sealed class TrainingState
{
    public required TicketModel Model { get; init; }
    public required OptimizerHelper Optimizer { get; init; }
    public required Step End { get; init; }
    public Step Step { get; internal set; }
    public bool IsEnd => Step.Iteration >= End.Iteration;
}

public readonly record struct IterationResult(Step Step, double Loss, long Correct, long Examples, double LearningRate);

/// <summary>
/// Extension points of the loop. "When" lives in the callback (every epoch, at given steps),
/// "what" in its body, so the loop itself stays short.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before the iteration of <c>state.Step</c>; also once at the end step.</summary>
    void AtStep(TrainingState state) { }

    void AfterIteration(TrainingState state, IterationResult result) { }

    /// <summary>Cancellation arrived before <c>state.Step</c> was trained.</summary>
    void OnInterrupted(TrainingState state) { }
}

/// <summary>
/// A rule the parameters keep through training, e.g. pruned weights stay exactly zero.
/// <see cref="Apply"/> enforces it on the weights once, at the start; <see cref="BeforeOptimizerStep"/>
/// constrains the gradients so that the step itself keeps it.
/// </summary>
public interface IParameterConstraint
{
    void Apply();
    void BeforeOptimizerStep();
}

/// <summary>The minibatch SGD loop: one scoped iteration per step, callbacks around it.</summary>
public sealed class TrainingLoop
{
    public required TicketModel Model { get; init; }
    public required OptimizerHelper Optimizer { get; init; }
    public required TrainingHparams Hparams { get; init; }
    public required TrainingBatches Batches { get; init; }
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = [];

    /// <summary>Keeps parameters within a constraint around every optimizer step (a pruning mask).</summary>
    public IParameterConstraint? Constraint { get; init; }

    /// <summary>Trains from <paramref name="start"/> up to <paramref name="end"/>. Throws <see cref="OperationCanceledException"/> after telling the callbacks.</summary>
    public void Run(Step start, Step end, CancellationToken cancellation)
    {
        var schedule = new LearningRateSchedule(Hparams, Batches.IterationsPerEpoch);
        var state = new TrainingState { Model = Model, Optimizer = Optimizer, End = end, Step = start };
        Model.train();
        for (var step = start; ; step = step.Next)
        {
            state.Step = step;
            foreach (var callback in Callbacks) callback.AtStep(state);
            if (step >= end) break;
            if (cancellation.IsCancellationRequested)
            {
                foreach (var callback in Callbacks) callback.OnInterrupted(state);
                cancellation.ThrowIfCancellationRequested();
            }

            double lr = schedule.At(step);
            IterationResult result;
            using (var scope = NewDisposeScope())
            {
                var (images, labels) = Batches.At(step);
                OptimizerFactory.SetLearningRate(Optimizer, lr);
                Optimizer.zero_grad();
                var logits = Model.forward(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                loss.backward();
                Constraint?.BeforeOptimizerStep();
                Optimizer.step();
                using var __ = no_grad();
                long correct = logits.argmax(1).eq(labels).sum().item<long>();
                result = new IterationResult(step, loss.item<float>(), correct, labels.shape[0], lr);
            }
            foreach (var callback in Callbacks) callback.AfterIteration(state, result);
        }
    }
}
