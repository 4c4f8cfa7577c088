using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

/// <summary>Every branch of a lottery run. Adding one: a class deriving from <see cref="Branch{THparams}"/> and a line here; its command, study key and table series follow.</summary>
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
