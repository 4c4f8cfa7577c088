using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

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
    TrainingSummary Run(BranchJob job, IHparams hparams);

    /// <summary>The values a nested hyperparameter group starts from on this lottery run (null: the group's defaults).</summary>
    object? GroupBase(Type groupType, IHparams partial, LotteryDesc lottery);
}

public abstract class Branch<THparams> : IBranch where THparams : class, IHparams, new()
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public Type HparamsType => typeof(THparams);
    public IHparams DefaultHparams => new THparams();

    public TrainingSummary Run(BranchJob job, IHparams hparams) => Run(job, (THparams)hparams);

    public virtual object? GroupBase(Type groupType, IHparams partial, LotteryDesc lottery) => null;

    protected abstract TrainingSummary Run(BranchJob job, THparams hparams);

    /// <summary>
    /// Trains the branch's run from <paramref name="initialState"/> at the lottery's rewind step,
    /// keeping <paramref name="mask"/>; the state's tensors are released afterwards.
    /// </summary>
    protected static TrainingSummary TrainMasked(BranchJob job, TrainingDesc desc, Pruning.Mask mask,
        Dictionary<string, TorchSharp.torch.Tensor> initialState, IHparams hparams, int? seedUsed = null)
    {
        try
        {
            var start = new TrainingStart
            {
                InitialState = initialState,
                StartStep = job.Lottery.Lottery.RewindStep,
                Constraint = model => new Pruning.MaskConstraint(model, mask),
            };
            return TrainingRunner.Train(job.Folder, desc, job.Replicate, job.Options, job.Context, start, Record(job, hparams, seedUsed));
        }
        finally
        {
            foreach (var t in initialState.Values) t.Dispose();
        }
    }

    /// <summary>Extra fields recorded in the branch run's hparams.json, the seed actually drawn with included.</summary>
    protected static JsonObject Record(BranchJob job, IHparams hparams, int? seedUsed = null) => new()
    {
        ["lottery_run"] = job.Lottery.RunName,
        ["level"] = job.Level,
        ["branch"] = new JsonObject { ["name"] = Path.GetFileName(job.Folder.Path), ["hparams"] = HparamJson.ToJson(hparams), ["seed_used"] = seedUsed },
    };
}

public static class BranchRegistry
{
    private static readonly IBranch[] Branches = [new RandomReinitBranch(), new RandomPruneBranch(), new RetrainBranch(), new PruningSolutionBranch()];

    public static IReadOnlyList<IBranch> All => Branches;

    public static IBranch Get(string name) =>
        Branches.FirstOrDefault(b => b.Name == name)
        ?? throw new HparamException("branch", $"unknown branch '{name}'. Known: {string.Join(", ", Branches.Select(b => b.Name))}.");

    /// <summary>Folder name of a branch with given hyperparameters: <c>random_reinit_&lt;hash&gt;</c>.</summary>
    public static string FolderName(IBranch branch, IHparams hparams) =>
        ExperimentName.Of(branch.Name, HparamJson.NonDefault(hparams));

    /// <summary>Runs a branch on one level of a lottery run whose level has finished.</summary>
    public static TrainingSummary Run(IBranch branch, IHparams hparams, LotteryDesc lottery, int replicate, int level, RunOptions options, RunContext context)
    {
        hparams.Validate();
        var layout = LotteryRunner.Layout(context, lottery, replicate);
        if (!layout.Main(level).IsFinished)
            throw new InvalidDataException($"{layout.Main(level).Path}: level {level} of {lottery.RunName} replicate {replicate} has not finished; run `ticketlab lottery` with --levels {level} first.");
        var folder = layout.Branch(level, FolderName(branch, hparams));
        return branch.Run(new BranchJob(lottery, replicate, level, layout, folder, options, context), hparams);
    }

    /// <summary>Parses <c>0-3,5,8-10</c>.</summary>
    public static IReadOnlyList<int> ParseLevels(string text)
    {
        var levels = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-');
            if (bounds.Length is < 1 or > 2 || !bounds.All(b => int.TryParse(b, out int v) && v >= 0))
                throw new HparamException("--levels", $"'{part}' is not a level or range: expected a list such as 0-3,5,8-10.");
            int from = int.Parse(bounds[0]), to = int.Parse(bounds[^1]);
            if (to < from) throw new HparamException("--levels", $"range '{part}' runs backwards.");
            for (int l = from; l <= to; l++) levels.Add(l);
        }
        if (levels.Count == 0) throw new HparamException("--levels", "no levels given.");
        return levels.ToArray();
    }
}
