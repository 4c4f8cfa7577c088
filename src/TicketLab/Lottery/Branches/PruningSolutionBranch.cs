using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Pruning;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

public sealed record PruningSolutionHparams : IHparams
{
    [Hparam("How long the pruned network is fine-tuned on its mask, at the recipe's final learning rate, e.g. 2ep.")]
    public StepSpec FinetuneSteps { get; init; } = new(2, 0);

    [Hparam("Seed of the fine-tuning's data order (combined with the replicate).")]
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (FinetuneSteps.IsZero) throw new HparamException("--finetune-steps", "must be longer than 0it.");
    }
}

/// <summary>
/// The pruning solution P of level L: what IMP pruned to make level L's mask, that is level L-1's
/// trained network with level L's mask applied, fine-tuned on that mask (prune, then fine-tune).
/// The ticket of level L is compared with it (Evci et al. 2020b; Maene et al. 2021). The accuracy
/// before fine-tuning is the first test evaluation of the run; after, its final one.
/// </summary>
public sealed class PruningSolutionBranch : Branch<PruningSolutionHparams>
{
    public override string Name => "pruning_solution";
    public override string Description => "the previous level's trained network, pruned with this level's mask and fine-tuned on it";

    protected override BranchTraining Prepare(BranchJob job, PruningSolutionHparams hparams)
    {
        if (job.Level < 1)
            throw new HparamException("--levels", "a pruning solution exists from level 1 on; level 0 is the dense network itself.");
        var recipe = job.Lottery.Training;
        var parent = job.Layout.Main(job.Level - 1);
        (TrainingSummary.Read(parent) ?? throw new InvalidDataException($"{parent.Path}: level {job.Level - 1} has not finished; run `ticketlab lottery` first."))
            .RequireConverged($"Level {job.Level - 1}, the network level {job.Level} was pruned from,");
        int perEpoch = LotteryRunner.IterationsPerEpoch(recipe, job.Context);
        double finalLr = new LearningRateSchedule(recipe.Training, perEpoch).At(recipe.Training.TrainingSteps.ToStep(perEpoch).Iteration - 1);
        int seed = BranchSeeds.Derive(hparams.Seed, job.Replicate);
        var desc = recipe with
        {
            Training = recipe.Training with
            {
                Lr = finalLr, LrSchedule = LrSchedule.Constant, MilestoneSteps = [], WarmupSteps = default,
                TrainingSteps = hparams.FinetuneSteps, DataOrderSeed = seed,
            },
        };
        var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        // The error before fine-tuning is part of the answer: always evaluate the starting point.
        var options = job.Options with { EvaluateSteps = [.. job.Options.EvaluateSteps, default] };
        var start = new TrainingStart
        {
            InitialState = parent.LoadTensors(parent.FinalModelPath),
            StartStep = default,
            Constraint = model => new MaskConstraint(model, mask),
            Inputs = [.. job.Layout.MaskInputs(job.Level), new(parent, parent.FinalModelPath)],
        };
        return new BranchTraining(new TrainingJob(job.Folder, desc, job.Replicate, start, Record(job, hparams, seed)), options, [mask, .. start.InitialState.Values]);
    }
}

/// <summary>
/// Seeds of the controls. A branch's seed is combined with the replicate, so that replicates draw
/// independent controls (the same seed for every replicate would pseudo-replicate the control band).
/// </summary>
public static class BranchSeeds
{
    public static int Derive(int seed, int replicate) => unchecked(seed * 1_000_003 + replicate * 7_919 + 104_729);
}
