using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// What one training run is made of, built the same way for the store's runner
/// (<see cref="TrainingRunner"/>) and the in-memory API (<see cref="Lab"/>): the seeded model and
/// data order, the optimizer, where it starts and ends, and the constraint (a mask) it keeps.
/// </summary>
public sealed class TrainingSetup : IDisposable
{
    private TrainingSetup(TicketModel model, OptimizerHelper optimizer, TrainingBatches batches, Step origin, Step end, IParameterConstraint? constraint, ILossTerm? lossTerm)
    {
        LossTerm = lossTerm;
        Model = model;
        Optimizer = optimizer;
        Batches = batches;
        Origin = origin;
        End = end;
        Constraint = constraint;
    }

    public TicketModel Model { get; }
    public OptimizerHelper Optimizer { get; }
    public TrainingBatches Batches { get; }
    public int IterationsPerEpoch => Batches.IterationsPerEpoch;
    /// <summary>The step training starts from: 0, or the rewind step of a ticket.</summary>
    public Step Origin { get; }
    public Step End { get; }
    public IParameterConstraint? Constraint { get; }
    public ILossTerm? LossTerm { get; }

    /// <param name="stopAt">Stop there instead of at the end of the recipe (the schedule still follows the whole recipe).</param>
    public static TrainingSetup Create(TrainingDesc desc, int replicate, ImageDataset train, Device device, TrainingStart? start, StepSpec? stopAt = null)
    {
        bool augment = train.Info.AugmentTraining && !desc.Dataset.DoNotAugment;
        var batches = new TrainingBatches(train, desc.Dataset.BatchSize, TrainingRunner.DataOrderSeed(desc, replicate), augment);
        int perEpoch = batches.IterationsPerEpoch;
        var end = desc.Training.TrainingSteps.ToStep(perEpoch);
        if (stopAt?.ToStep(perEpoch) is { } stop && stop < end) end = stop;
        Step origin = start?.StartStep.ToStep(perEpoch) ?? Step.Zero(perEpoch);
        if (origin >= end)
            throw new HparamException("--rewind-step", $"the run starts at iteration {origin.Iteration}, at or past its end ({end.Iteration}); choose a step before the end of training.");

        var model = ModelRegistry.Create(desc.Model, InputSpec.Of(train), TrainingRunner.ModelSeed(desc, replicate));
        try
        {
            model.to(device);
            var optimizer = OptimizerFactory.Create(desc.Training, model.parameters());
            if (start?.InitialState is { } initial) ModelState.Copy(model, initial, "initial state");
            var constraint = start?.Constraint?.Invoke(model);
            constraint?.Apply();
            return new TrainingSetup(model, optimizer, batches, origin, end, constraint, start?.LossTerm?.Invoke(model));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public TrainingLoop Loop(TrainingHparams hparams, IReadOnlyList<ITrainingCallback> callbacks) => new()
    {
        Model = Model, Optimizer = Optimizer, Hparams = hparams, Batches = Batches, Callbacks = callbacks, Constraint = Constraint, LossTerm = LossTerm,
    };

    public void Dispose()
    {
        (LossTerm as IDisposable)?.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
