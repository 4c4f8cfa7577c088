using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Pruning;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

/// <summary>Overrides of the training recipe for a retrain branch; unset fields keep the lottery run's values.</summary>
public sealed record RetrainHparams : IHparams
{
    [Hparam("Take the training recipe of this preset (then apply the other retrain flags).")]
    public string? RetrainPreset { get; init; }

    [Hparam("Data order and augmentation seed of the retraining.")]
    public int? RetrainDataOrderSeed { get; init; }

    [Hparam("Learning rate of the retraining.")]
    public double? RetrainLr { get; init; }

    [Hparam("Optimizer of the retraining: sgd or adam.")]
    public OptimizerName? RetrainOptimizerName { get; init; }

    [Hparam("Momentum of the retraining.")]
    public double? RetrainMomentum { get; init; }

    [Hparam("Weight decay of the retraining.")]
    public double? RetrainWeightDecay { get; init; }

    [Hparam("Duration of the retraining, e.g. 40ep.")]
    public StepSpec? RetrainTrainingSteps { get; init; }

    [Hparam("Warmup of the retraining, e.g. 30000it.")]
    public StepSpec? RetrainWarmupSteps { get; init; }

    [Hparam("Milestones of the retraining, e.g. 80ep,120ep.")]
    public StepSpec[]? RetrainMilestoneSteps { get; init; }

    public void Validate()
    {
        if (RetrainPreset is not null) Presets.Get(RetrainPreset);
    }

    public TrainingHparams Apply(TrainingHparams baseline)
    {
        var training = RetrainPreset is { } preset ? Presets.Get(preset).Training : baseline;
        training = training with
        {
            DataOrderSeed = RetrainDataOrderSeed ?? training.DataOrderSeed,
            Lr = RetrainLr ?? training.Lr,
            OptimizerName = RetrainOptimizerName ?? training.OptimizerName,
            Momentum = RetrainMomentum ?? training.Momentum,
            WeightDecay = RetrainWeightDecay ?? training.WeightDecay,
            TrainingSteps = RetrainTrainingSteps ?? training.TrainingSteps,
            WarmupSteps = RetrainWarmupSteps ?? training.WarmupSteps,
            MilestoneSteps = RetrainMilestoneSteps ?? training.MilestoneSteps,
        };
        training.Validate();
        return training;
    }
}

/// <summary>The ticket (same mask, same rewound weights) retrained with another recipe or data order.</summary>
public sealed class RetrainBranch : Branch<RetrainHparams>
{
    public override string Name => "retrain";
    public override string Description => "same mask and rewound weights, retrained with other training hyperparameters";

    protected override TrainingSummary Run(BranchJob job, RetrainHparams hparams)
    {
        var desc = job.Lottery.Training with { Training = hparams.Apply(job.Lottery.Training.Training) };
        using var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        return TrainMasked(job, desc, mask, LotteryRunner.RewindState(job.Layout, job.Lottery, job.Context), hparams);
    }
}
