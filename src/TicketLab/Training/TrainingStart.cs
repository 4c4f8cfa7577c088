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
}
