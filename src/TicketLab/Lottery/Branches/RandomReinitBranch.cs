using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

public sealed record RandomReinitHparams : IHparams
{
    [Hparam("Seed of the fresh random initialization (combined with the replicate, so replicates draw different weights).")]
    public int Seed { get; init; } = 1;

    public void Validate() { }
}

/// <summary>Control: the ticket's mask with a fresh random initialization, trained like the ticket.</summary>
public sealed class RandomReinitBranch : Branch<RandomReinitHparams>
{
    public override string Name => "random_reinit";
    public override string Description => "same mask, fresh random initialization (seeded), retrained";

    protected override BranchTraining Prepare(BranchJob job, RandomReinitHparams hparams)
    {
        var desc = job.Lottery.TrainingAt(job.Level, job.Replicate);
        var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        // Derived from the replicate, and from a stream apart from the model seeds (the replicate
        // numbers), so the fresh weights never coincide with a ticket's.
        int seed = BranchSeeds.Derive(hparams.Seed, job.Replicate);
        using var fresh = ModelRegistry.Create(desc.Model, LotteryRunner.InputOf(desc, job.Context), seed);
        return Masked(job, desc, mask, ModelState.Snapshot(fresh), hparams, seed);
    }
}
