using TicketLab.Foundations;

namespace TicketLab.Hyperparameters;

public sealed record TrainingHparams : IHparams
{
    [Hparam("Optimizer: sgd or adam.")]
    public OptimizerName OptimizerName { get; init; } = OptimizerName.Sgd;

    [Hparam("Base learning rate.")]
    public double Lr { get; init; } = 0.1;

    [Hparam("SGD momentum (0 for plain SGD).")]
    public double Momentum { get; init; }

    [Hparam("Use Nesterov momentum with SGD.")]
    public bool NesterovMomentum { get; init; }

    [Hparam("L2 penalty on all weights.")]
    public double WeightDecay { get; init; }

    [Hparam("Training duration, e.g. 160ep, 30000it or 2ep100it.")]
    public StepSpec TrainingSteps { get; init; } = new(40, 0);

    [Hparam("Learning-rate schedule: multi_step (gamma at each milestone), constant or cosine.")]
    public LrSchedule LrSchedule { get; init; } = LrSchedule.MultiStep;

    [Hparam("Steps at which the learning rate is multiplied by gamma, e.g. 80ep,120ep.")]
    public StepSpec[] MilestoneSteps { get; init; } = [];

    [Hparam("Learning-rate factor at each milestone.")]
    public double Gamma { get; init; } = 0.1;

    [Hparam("Linear warmup of the learning rate from 0 over this many steps, e.g. 30000it.")]
    public StepSpec WarmupSteps { get; init; }

    [Hparam("Mixed precision of the training steps, as PyTorch's autocast: bf16 runs convolutions and linear layers in bfloat16 (weights, gradients, optimizer and every evaluation stay float32), or none.")]
    public AutocastDtype Autocast { get; init; } = AutocastDtype.None;

    [Hparam("Seed of the data order and augmentation (default: the replicate number).")]
    public int? DataOrderSeed { get; init; }

    public void Validate()
    {
        if (!(Lr > 0 && double.IsFinite(Lr))) throw new HparamException("--lr", $"must be a positive finite number, got {Lr}.");
        if (!(Momentum >= 0 && Momentum < 1)) throw new HparamException("--momentum", $"must be in [0, 1), got {Momentum}.");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay))) throw new HparamException("--weight-decay", $"must not be negative, got {WeightDecay}.");
        if (TrainingSteps.IsZero) throw new HparamException("--training-steps", "must be longer than 0it.");
        if (!(Gamma > 0 && double.IsFinite(Gamma))) throw new HparamException("--gamma", $"must be positive, got {Gamma}.");
        if (NesterovMomentum && (OptimizerName != OptimizerName.Sgd || Momentum == 0))
            throw new HparamException("--nesterov-momentum", "needs --optimizer-name sgd and a non-zero --momentum.");
        if (MilestoneSteps.Length > 0 && LrSchedule != LrSchedule.MultiStep)
            throw new HparamException("--milestone-steps", $"only apply to --lr-schedule multi_step, not {LrSchedule}.");
    }
}
