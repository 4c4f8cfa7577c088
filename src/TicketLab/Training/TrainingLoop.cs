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

    /// <summary>Training at <c>state.Step</c> gave a non-finite loss (or the weights are no longer finite); nothing was applied.</summary>
    void OnDiverged(TrainingState state, double loss) { }
}

/// <summary>The first step at which training stopped being finite: the loss there, or NaN weights found at an epoch start.</summary>
public readonly record struct Divergence(Step Step, double Loss, string Cause);

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

/// <summary>
/// A term added to the training loss (a regularizer of the weights, e.g. the repellent loss of
/// Maene et al. 2021). The logged loss stays the data loss; gradients follow the sum.
/// </summary>
public interface ILossTerm
{
    Tensor Compute();
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

    public ILossTerm? LossTerm { get; init; }

    /// <summary>
    /// Trains from <paramref name="start"/> up to <paramref name="end"/>, or until the loss stops
    /// being finite: then it returns where, without applying that step, so the weights stay the
    /// last finite ones. Throws <see cref="OperationCanceledException"/> after telling the callbacks.
    /// </summary>
    public Divergence? Run(Step start, Step end, CancellationToken cancellation)
    {
        var schedule = new LearningRateSchedule(Hparams, Batches.IterationsPerEpoch);
        ScalarType? autocast = Hparams.Autocast == AutocastDtype.Bf16 ? ScalarType.BFloat16 : null;
        var state = new TrainingState { Model = Model, Optimizer = Optimizer, End = end, Step = start };
        Model.train();
        for (var step = start; ; step = step.Next)
        {
            state.Step = step;
            // Weights can overflow while the loss still reads finite; an epoch boundary is a cheap place to look.
            if (step.IsEpochStart && step > start && !ParametersAreFinite())
                return Diverged(state, new Divergence(step, double.NaN, "the weights are no longer finite"));
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
                OptimizerFactory.ClearGradients(Optimizer);
                Tensor logits;
                using (Autocast.Enable(autocast)) logits = Model.forward(images);
                if (logits.dtype != ScalarType.Float32) logits = logits.to(ScalarType.Float32); // the loss in float32, as under PyTorch's autocast
                var loss = nn.functional.cross_entropy(logits, labels);
                float lossValue = loss.item<float>();
                if (!float.IsFinite(lossValue))
                    return Diverged(state, new Divergence(step, lossValue, $"the training loss is {lossValue}"));
                NativeAllocator.AfterForwardPass();
                if (LossTerm is not null)
                {
                    loss = loss + LossTerm.Compute();
                    double total = loss.item<float>();
                    if (!double.IsFinite(total))
                        return Diverged(state, new Divergence(step, total, $"the training loss with its added term is {total}"));
                }
                loss.backward();
                Constraint?.BeforeOptimizerStep();
                Optimizer.step();
                using var __ = no_grad();
                long correct = logits.argmax(1).eq(labels).sum().item<long>();
                result = new IterationResult(step, lossValue, correct, labels.shape[0], lr);
            }
            foreach (var callback in Callbacks) callback.AfterIteration(state, result);
        }
        return null;
    }

    private Divergence Diverged(TrainingState state, Divergence divergence)
    {
        foreach (var callback in Callbacks) callback.OnDiverged(state, divergence.Loss);
        return divergence;
    }

    private bool ParametersAreFinite()
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        return Model.parameters().All(p => p.isfinite().all().item<bool>());
    }
}

/// <summary>
/// A constraint that is a fixed 0/1 mask on some parameters: gradients are multiplied by it before
/// each step. Stacked training applies its members' masks to the stacked tensors at once.
/// </summary>
public interface IMaskConstraint : IParameterConstraint
{
    /// <summary>The mask of each masked parameter, by the model's parameter name.</summary>
    IReadOnlyDictionary<string, Tensor> Masks { get; }
}
