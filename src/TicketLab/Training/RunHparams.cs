using TicketLab.Foundations;

namespace TicketLab.Training;

/// <summary>
/// The flags of a run that do not change its result, and so are not hashed: when to evaluate and
/// which states to save. A hyperparameter record like the others, so its flags and help come from here.
/// </summary>
public sealed record RunHparams : Hyperparameters.IHparams
{
    [Hyperparameters.Hparam("Extra steps at which to evaluate on the test set, e.g. 100it,500it.")]
    public StepSpec[] EvalSteps { get; init; } = [];

    [Hyperparameters.Hparam("Also evaluate on the training set at each evaluation.")]
    public bool EvalTrain { get; init; }

    [Hyperparameters.Hparam("Do not evaluate at every epoch (only at --eval-steps and the end).")]
    public bool NoEpochEval { get; init; }

    [Hyperparameters.Hparam("Steps at which to save the weights (for rewinding), e.g. 500it,2ep.")]
    public StepSpec[] SaveSteps { get; init; } = [];

    [Hyperparameters.Hparam("Networks of one architecture on the same data (replicates, branches, copies) trained together as one stacked model, at most this many at once; 1: each alone. Results differ from lone runs by float rounding only.")]
    public int NetworksPerProcess { get; init; } = StackedTraining.DefaultNetworks;

    public void Validate()
    {
        if (NetworksPerProcess < 1) throw new Hyperparameters.HparamException("--networks-per-process", $"must be at least 1, got {NetworksPerProcess}.");
    }

    public RunOptions ToRunOptions() => new()
    {
        EvaluateEveryEpoch = !NoEpochEval, EvaluateSteps = EvalSteps, EvaluateTrainSet = EvalTrain, SaveSteps = SaveSteps,
        NetworksPerProcess = NetworksPerProcess,
    };
}
