using TicketLab.Hyperparameters;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Lottery.Branches;

public enum RandomPruneScope { Layerwise, Global }

public sealed record RandomPruneHparams : IHparams
{
    [Hparam("Seed of the random mask (combined with the replicate, so replicates draw different masks).")]
    public int Seed { get; init; } = 1;

    [Hparam("layerwise: each tensor keeps as many weights as the ticket's; global: the same total, spread at random over the pruned tensors.")]
    public RandomPruneScope PruneScope { get; init; } = RandomPruneScope.Layerwise;

    public void Validate() { }
}

/// <summary>Control: a random mask of the ticket's sparsity, with the ticket's rewound initialization.</summary>
public sealed class RandomPruneBranch : Branch<RandomPruneHparams>
{
    public override string Name => "random_prune";
    public override string Description => "random mask with the same sparsity (per tensor or global), rewound initialization";

    protected override BranchTraining Prepare(BranchJob job, RandomPruneHparams hparams)
    {
        using var ticketMask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        int seed = BranchSeeds.Derive(hparams.Seed, job.Replicate);
        var mask = RandomMask(ticketMask, hparams.PruneScope, seed);
        string maskPath = Path.Combine(job.Folder.Path, "mask.bin");
        if (!File.Exists(maskPath)) mask.Save(maskPath, Path.Combine(job.Folder.Path, "mask.json"));
        return Masked(job, job.Lottery.TrainingAt(job.Level, job.Replicate), mask, LotteryRunner.RewindState(job.Layout, job.Lottery, job.Context), hparams, seed,
            [.. RewindInputs(job), new(job.Folder, maskPath), new(job.Folder, Path.Combine(job.Folder.Path, "mask.json"))]);
    }

    /// <summary>
    /// A mask keeping, at random, as many weights as <paramref name="ticket"/> does: per tensor
    /// (layerwise), or in total over the tensors the ticket pruned (global); tensors the ticket
    /// left dense stay dense.
    /// </summary>
    public static Mask RandomMask(Mask ticket, RandomPruneScope scope, int seed)
    {
        using var disposeScope = NewDisposeScope();
        using var generator = new Generator(unchecked((ulong)(uint)seed));
        var result = ticket.Names.ToDictionary(n => n, n => ticket[n].clone());
        var pruned = ticket.Names.Where(n => ticket.Remaining(n) < ticket.Total(n)).ToArray();
        if (scope == RandomPruneScope.Layerwise)
        {
            foreach (var name in pruned)
                result[name] = KeepRandom(ticket.Total(name), ticket.Remaining(name), generator).reshape(ticket[name].shape);
        }
        else if (pruned.Length > 0)
        {
            long total = pruned.Sum(ticket.Total), keep = pruned.Sum(ticket.Remaining);
            var flat = KeepRandom(total, keep, generator);
            long offset = 0;
            foreach (var name in pruned)
            {
                result[name] = flat.narrow(0, offset, ticket.Total(name)).reshape(ticket[name].shape);
                offset += ticket.Total(name);
            }
        }
        return new Mask(result);
    }

    private static Tensor KeepRandom(long total, long keep, Generator generator)
    {
        var flat = zeros(total);
        flat.index_fill_(0, randperm(total, generator: generator).narrow(0, 0, keep), 1);
        return flat;
    }
}
