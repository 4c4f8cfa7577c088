using TicketLab.Foundations;
using TicketLab.Models;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// Where training starts when it is not a fresh initialization: given weights (a rewound
/// ticket), a step to continue the schedule and data order from, a constraint re-applied
/// after every optimizer step (a pruning mask) and a term added to the loss.
/// </summary>
public sealed record TrainingStart
{
    public IReadOnlyDictionary<string, Tensor>? InitialState { get; init; }
    public StepSpec StartStep { get; init; }
    public Func<TicketModel, IParameterConstraint>? Constraint { get; init; }
    /// <summary>A term added to the loss, made for the run's model (it may hold references to its parameters).</summary>
    public Func<TicketModel, ILossTerm>? LossTerm { get; init; }
    /// <summary>
    /// The stored files the run is made from: another run's weights (a parent, the rewind state),
    /// checked against their run's manifest and data before training and recorded in this run's;
    /// files of the run's own folder written before it trains (its mask), recorded as its own.
    /// </summary>
    public IReadOnlyList<Store.RunInput> Inputs { get; init; } = [];
}
