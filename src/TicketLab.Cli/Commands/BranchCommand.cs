using System.CommandLine;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;

namespace TicketLab.Cli.Commands;

/// <summary>
/// <c>ticketlab branch NAME</c>: runs a branch on levels of a finished lottery run. One
/// sub-command per registered branch, its flags made from the branch's hyperparameter record.
/// </summary>
internal static class BranchCommand
{
    public static Command Create(CliEnvironment environment, PresetDefaults defaults)
    {
        var command = new Command("branch", "Run a control or variation on levels of a finished lottery run (given by the same flags as `ticketlab lottery`).");
        foreach (var branch in BranchRegistry.All) command.Subcommands.Add(CreateFor(branch, environment, defaults));
        return command;
    }

    private static Command CreateFor(IBranch branch, CliEnvironment environment, PresetDefaults defaults)
    {
        var options = new LotteryOptions(defaults);
        var branchOptions = new HparamOptionSet(branch.HparamsType, branch.DefaultHparams,
            groupDefaults: t => branch.GroupBase(t, branch.DefaultHparams, new LotteryDesc(defaults.Training, defaults.Pruning, new LotteryHparams())));
        var levels = new Option<string>("--levels") { Description = "Levels to run the branch on, e.g. 0-3,5,8-10", Required = true };
        var command = new Command(branch.Name, branch.Description);
        options.AddTo(command);
        branchOptions.AddTo(command);
        command.Options.Add(levels);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var lottery = options.ReadDesc(result);
            var hparams = (IHparams)branchOptions.ReadObject(result, (type, partial) => branch.GroupBase(type, (IHparams)partial, lottery));
            var levelList = BranchRegistry.ParseLevels(result.GetValue(levels) ?? "");
            if (environment.OnlyNames(lottery.RunName)) return 0;
            var (output, desc, runOptions, context) = options.Prepare(result, environment);
            output.Human.WriteLine($"Branch {BranchRegistry.FolderName(branch, hparams)} of {desc.RunName}, levels {string.Join(",", levelList)}:");
            output.Human.Write(HparamJson.Describe(hparams));
            int diverged = 0;
            // Every replicate's levels in one go: their runs train together, as stacks where the architecture allows.
            var runs = options.ReadReplicates(result).SelectMany(replicate => levelList.Select(level => (replicate, level))).ToArray();
            var summaries = TrainingCommandSupport.WithProgress(output, context, c => BranchRegistry.RunMany(branch, hparams, desc, runs, runOptions, c));
            foreach (var ((replicate, level), summary) in runs.Zip(summaries))
            {
                string outcome = summary.Diverged ? summary.DivergenceText : $"final test accuracy {summary.FinalTestAccuracy:P2}";
                output.Human.WriteLine($"replicate {replicate} level {level}: {outcome}{(summary.AlreadyFinished ? " (already finished)" : "")}");
                if (summary.Diverged) diverged++;
            }
            var summaryOutcome = TicketLab.Experiments.Kinds.LotteryExperiment.Summary(LotteryTable.Read(context.Store, desc.RunName));
            if (diverged > 0) summaryOutcome = summaryOutcome with { Errors = [$"{diverged} {branch.Name} run(s) diverged (see above); they are recorded as such."], ExitCode = CommandErrors.Diverged };
            return OutcomeView.Write(output, environment, context.Store, summaryOutcome);
        }));
        return command;
    }
}
