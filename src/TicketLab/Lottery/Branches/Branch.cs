using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

/// <summary>What a branch trains on one level: the run, its options, and what it holds (mask, initial weights) until trained.</summary>
public sealed record BranchTraining(TrainingJob Job, RunOptions Options, IReadOnlyList<IDisposable> Owned) : IDisposable
{
    public void Dispose()
    {
        foreach (var held in Owned) held.Dispose();
    }
}

/// <summary>Everything a branch needs to run on one level of a finished lottery run.</summary>
public sealed record BranchJob(LotteryDesc Lottery, int Replicate, int Level, LotteryLayout Layout, RunFolder Folder, RunOptions Options, RunContext Context);

/// <summary>
/// An experiment run on a level of a lottery run (a control or a variation). A new branch is
/// one class: its hyperparameter record becomes command-line flags and names its folder
/// (<c>level_L/&lt;name&gt;_&lt;hash&gt;</c>), through <see cref="BranchRegistry"/>.
/// </summary>
public interface IBranch
{
    string Name { get; }
    string Description { get; }
    Type HparamsType { get; }
    IHparams DefaultHparams { get; }

    /// <summary>What the branch trains on the job's level, not trained yet: <see cref="BranchRegistry"/> trains the runs of several levels and replicates together.</summary>
    BranchTraining Prepare(BranchJob job, IHparams hparams);

    /// <summary>The values a nested hyperparameter group starts from on this lottery run (null: the group's defaults).</summary>
    object? GroupBase(Type groupType, IHparams partial, LotteryDesc lottery);
}

public abstract class Branch<THparams> : IBranch where THparams : class, IHparams, new()
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public Type HparamsType => typeof(THparams);
    public IHparams DefaultHparams => new THparams();

    public BranchTraining Prepare(BranchJob job, IHparams hparams) => Prepare(job, (THparams)hparams);

    public virtual object? GroupBase(Type groupType, IHparams partial, LotteryDesc lottery) => null;

    protected abstract BranchTraining Prepare(BranchJob job, THparams hparams);

    /// <summary>
    /// In a repellent run, whether the branch at level L is repelled from the branch's own earlier
    /// levels (a control that runs its own sequence; level 0 is the dense network all share), or
    /// from the main run's, as the ticket is.
    /// </summary>
    protected virtual bool RepelledFromOwnLevels => true;

    /// <summary>
    /// The branch's run from <paramref name="initialState"/> at the lottery's rewind step, keeping
    /// <paramref name="mask"/>; the mask and the state's tensors are released once it has trained.
    /// </summary>
    protected BranchTraining Masked(BranchJob job, TrainingDesc desc, Pruning.Mask mask,
        Dictionary<string, TorchSharp.torch.Tensor> initialState, IHparams hparams, int? seedUsed = null, IReadOnlyList<RunInput>? inputs = null)
    {
        IDisposable[] owned = [mask, .. initialState.Values];
        try
        {
            var record = Record(job, hparams, seedUsed);
            string branchFolder = Path.GetFileName(job.Folder.Path);
            Func<int, RunFolder> earlier = RepelledFromOwnLevels
                ? level => level == 0 ? job.Layout.Main(0) : job.Layout.Branch(level, branchFolder)
                : job.Layout.Main;
            var repellence = TrainingSummary.Read(job.Folder) is null ? Repellence.For(job.Lottery, job.Level, mask, earlier) : null;
            if (repellence is { } repelled) record["repellent_loss"] = repelled.Record;
            var start = new TrainingStart
            {
                InitialState = initialState,
                StartStep = job.Lottery.Lottery.RewindStep,
                Constraint = model => new Pruning.MaskConstraint(model, mask),
                LossTerm = repellence?.Term,
                Inputs = [.. job.Layout.MaskInputs(job.Level), .. inputs ?? []],
            };
            return new BranchTraining(new TrainingJob(job.Folder, desc, job.Replicate, start, record), job.Options, owned);
        }
        catch
        {
            foreach (var held in owned) held.Dispose();
            throw;
        }
    }

    /// <summary>The inputs of a branch that starts from the lottery's rewind state.</summary>
    protected static IReadOnlyList<RunInput> RewindInputs(BranchJob job) => [LotteryRunner.RewindInput(job.Layout, job.Lottery, job.Context)];

    /// <summary>Extra fields recorded in the branch run's hparams.json, the seed actually drawn with included.</summary>
    protected static JsonObject Record(BranchJob job, IHparams hparams, int? seedUsed = null) => new()
    {
        ["lottery_run"] = job.Lottery.RunName,
        ["level"] = job.Level,
        ["branch"] = new JsonObject { ["name"] = Path.GetFileName(job.Folder.Path), ["hparams"] = HparamJson.ToJson(hparams), ["seed_used"] = seedUsed },
    };
}
