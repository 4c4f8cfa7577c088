using TicketLab.Models;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery.Branches;

/// <summary>A branch to run on one level of one replicate.</summary>
public sealed record BranchRun(IBranch Branch, IHparams Hparams, int Replicate, int Level);

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
    public static TrainingSummary Run(IBranch branch, IHparams hparams, LotteryDesc lottery, int replicate, int level, RunOptions options, RunContext context) =>
        RunMany(branch, hparams, lottery, [(replicate, level)], options, context)[0];

    /// <summary>Runs a branch on levels of replicates whose levels have finished; see <see cref="RunTogether"/>.</summary>
    public static IReadOnlyList<TrainingSummary> RunMany(IBranch branch, IHparams hparams, LotteryDesc lottery,
        IReadOnlyList<(int Replicate, int Level)> runs, RunOptions options, RunContext context) =>
        RunTogether(lottery, runs.Select(r => new BranchRun(branch, hparams, r.Replicate, r.Level)).ToArray(), options, context);

    /// <summary>
    /// Runs branches on levels of replicates whose levels have finished (all checked first), the runs
    /// of a stackable architecture together, up to <see cref="RunOptions.NetworksPerProcess"/> at once
    /// (<see cref="StackedTraining"/>; runs a branch gives other options, such as pruning_solution's
    /// evaluation at its start, train apart); summaries in the order of <paramref name="runs"/>.
    /// </summary>
    public static IReadOnlyList<TrainingSummary> RunTogether(LotteryDesc lottery, IReadOnlyList<BranchRun> runs, RunOptions options, RunContext context)
    {
        var jobs = runs.Select(run =>
        {
            run.Hparams.Validate();
            var layout = LotteryRunner.Layout(context, lottery, run.Replicate);
            if (!layout.Main(run.Level).IsFinished)
                throw new InvalidDataException($"{layout.Main(run.Level).Path}: level {run.Level} of {lottery.RunName} replicate {run.Replicate} has not finished; run `ticketlab lottery` with --levels {run.Level} first.");
            return (run, Job: new BranchJob(lottery, run.Replicate, run.Level, layout, layout.Branch(run.Level, FolderName(run.Branch, run.Hparams)), options, context));
        }).ToArray();
        // Prepared a stack at a time: each run holds its mask and initial weights until trained.
        int together = StackedModel.Supports(lottery.Training.Model.ModelName) ? options.NetworksPerProcess : 1;
        var summaries = new List<TrainingSummary>();
        foreach (var chunk in jobs.Chunk(together))
        {
            var prepared = new List<BranchTraining>();
            try
            {
                foreach (var (run, job) in chunk) prepared.Add(run.Branch.Prepare(job, run.Hparams));
                var trained = new TrainingSummary[prepared.Count];
                foreach (var sameOptions in Enumerable.Range(0, prepared.Count).GroupBy(i => prepared[i].Options))
                {
                    var indices = sameOptions.ToArray();
                    var results = StackedTraining.TrainAll(indices.Select(i => prepared[i].Job).ToArray(), sameOptions.Key, context);
                    for (int k = 0; k < indices.Length; k++) trained[indices[k]] = results[k];
                }
                summaries.AddRange(trained);
            }
            finally
            {
                foreach (var p in prepared) p.Dispose();
            }
        }
        return summaries;
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
