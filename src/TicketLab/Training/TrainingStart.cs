using TicketLab.Foundations;
using TicketLab.Models;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// Where training starts when it is not a fresh initialization: given weights (a rewound
/// ticket), a step to continue the schedule and data order from, and a constraint re-applied
/// after every optimizer step (a pruning mask).
/// </summary>
public sealed record TrainingStart
{
    public IReadOnlyDictionary<string, Tensor>? InitialState { get; init; }
    public StepSpec StartStep { get; init; }
    public Func<TicketModel, IParameterConstraint>? Constraint { get; init; }
}
