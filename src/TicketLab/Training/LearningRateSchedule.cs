using TicketLab.Foundations;
using TicketLab.Hyperparameters;

namespace TicketLab.Training;

/// <summary>
/// Learning rate at each iteration: the base rate, times the linear warmup factor
/// min(1, it / warmup), times the schedule (gamma per milestone passed, or half-cosine).
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly TrainingHparams hparams;
    private readonly long warmup;
    private readonly long total;
    private readonly long[] milestones;

    public LearningRateSchedule(TrainingHparams hparams, int iterationsPerEpoch)
    {
        this.hparams = hparams;
        warmup = hparams.WarmupSteps.ToStep(iterationsPerEpoch).Iteration;
        total = hparams.TrainingSteps.ToStep(iterationsPerEpoch).Iteration;
        milestones = hparams.MilestoneSteps.Select(m => m.ToStep(iterationsPerEpoch).Iteration).Order().ToArray();
    }

    public double At(long iteration)
    {
        double lr = hparams.Lr;
        if (warmup > 0) lr *= Math.Min(1.0, (double)iteration / warmup);
        return hparams.LrSchedule switch
        {
            LrSchedule.MultiStep => lr * Math.Pow(hparams.Gamma, milestones.Count(m => m <= iteration)),
            LrSchedule.Cosine => lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(iteration, total) / total)),
            _ => lr,
        };
    }

    public double At(Step step) => At(step.Iteration);
}
