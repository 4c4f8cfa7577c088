using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Pruning;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

/// <summary>
/// The recipe of a retrain branch: a whole training group (<c>--retrain-lr</c>, <c>--retrain-data-order-seed</c>, ...),
/// whose flags start from the lottery run's recipe (or the retrain preset's); not given: that recipe unchanged.
/// </summary>
public sealed record RetrainHparams : IHparams
{
    /// <summary>
    /// The data-order seed a replicate's noise-floor retrain uses (the comparison's second ticket T2):
    /// distinct from the lottery's own (the replicate number). Series labels show it as
    /// <c>2000003+replicate</c>, so the noise floor of every replicate is one series.
    /// </summary>
    public static int NoiseFloorSeed(int replicate) => NoiseFloorSeedBase + replicate;
    public const int NoiseFloorSeedBase = 2_000_003;

    [Hparam("Take the training recipe of this preset (then apply the --retrain-* flags).")]
    public string? RetrainPreset { get; init; }

    [HparamGroup("retrain", "the retraining's recipe; unset flags keep the lottery run's (or --retrain-preset's) values")]
    public TrainingHparams? Training { get; init; }

    public void Validate()
    {
        if (RetrainPreset is not null) Presets.Get(RetrainPreset);
        try
        {
            Training?.Validate();
        }
        catch (HparamException e) when (e.Flag.StartsWith("--", StringComparison.Ordinal))
        {
            // The group's own checks name the unprefixed flag; the user typed the prefixed one.
            string flag = "--retrain-" + e.Flag[2..];
            throw new HparamException(flag, e.Message[(e.Flag.Length + 2)..]);
        }
    }

    /// <summary>Where the group's flags start: the retrain preset's recipe, else the lottery run's.</summary>
    public TrainingHparams Base(TrainingHparams lottery) => RetrainPreset is { } preset ? Presets.Get(preset).Training : lottery;

    /// <summary>The recipe the branch trains with.</summary>
    public TrainingHparams Apply(TrainingHparams lottery)
    {
        var training = Training ?? Base(lottery);
        training.Validate();
        return training;
    }
}

/// <summary>The ticket (same mask, same rewound weights) retrained with another recipe or data order.</summary>
public sealed class RetrainBranch : Branch<RetrainHparams>
{
    public override string Name => "retrain";
    public override string Description => "same mask and rewound weights, retrained with other training hyperparameters";

    public override object? GroupBase(Type groupType, IHparams partial, LotteryDesc lottery) =>
        groupType == typeof(TrainingHparams) ? ((RetrainHparams)partial).Base(lottery.Training.Training) : null;

    protected override BranchTraining Prepare(BranchJob job, RetrainHparams hparams)
    {
        var level = job.Lottery.TrainingAt(job.Level, job.Replicate);
        var desc = level with { Training = hparams.Apply(level.Training) };
        var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        return Masked(job, desc, mask, LotteryRunner.RewindState(job.Layout, job.Lottery, job.Context), hparams, inputs: RewindInputs(job));
    }

    // The ticket retrained: in a repellent run it is repelled from the same earlier networks as the ticket.
    protected override bool RepelledFromOwnLevels => false;
}
