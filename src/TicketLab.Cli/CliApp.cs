using System.CommandLine;
using TicketLab.Cli.Commands;

namespace TicketLab.Cli;

/// <summary>The <c>ticketlab</c> command tree. Thin: every command binds options and calls the library.</summary>
public static class CliApp
{
    public static int Run(string[] args, CliEnvironment environment)
    {
        var defaults = TrainingCommandSupport.DefaultsFor(args);
        var root = new RootCommand("TicketLab: lottery-ticket experiments on vision networks (train, prune, rewind, compare).")
        {
            TrainCommand.Create(environment, defaults),
            LotteryCommand.Create(environment, defaults),
            BranchCommand.Create(environment, defaults),
            AnalysisCommands.Instability(environment, defaults),
            AnalysisCommands.RewindSweep(environment, defaults),
            AnalysisCommands.Compare(environment, defaults),
            ReportCommand.Create(environment),
            ListCommand.Create(environment),
        };
        var configuration = new InvocationConfiguration
        {
            Output = environment.Stdout,
            Error = environment.Stderr,
            ProcessTerminationTimeout = null, // Ctrl-C is handled by the run, which saves a checkpoint first.
        };
        return root.Parse(args).Invoke(configuration);
    }
}
