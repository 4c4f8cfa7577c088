using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

public sealed record RandomReinitHparams : IHparams
{
    [Hparam("Seed of the fresh random initialization.")]
    public int Seed { get; init; } = 1;

    public void Validate() { }
}

/// <summary>Control: the ticket's mask with a fresh random initialization, trained like the ticket.</summary>
public sealed class RandomReinitBranch : Branch<RandomReinitHparams>
{
    public override string Name => "random_reinit";
    public override string Description => "same mask, fresh random initialization (seeded), retrained";

    protected override TrainingSummary Run(BranchJob job, RandomReinitHparams hparams)
    {
        var desc = job.Lottery.Training;
        using var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        // The fresh weights come from a separate seed stream so they never coincide with the ticket's.
        int seed = unchecked(hparams.Seed * 7919 + 104729);
        using var fresh = ModelRegistry.Create(desc.Model, LotteryRunner.InputOf(desc, job.Context), seed);
        return TrainMasked(job, desc, mask, ModelState.Snapshot(fresh), hparams);
    }
}
