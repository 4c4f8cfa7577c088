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
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // Usage errors all end with exit code 2, parse errors (unknown or repeated flags, bad choices) included.
            var command = parsed.CommandResult.Command;
            string help = command == root ? "ticketlab --help" : $"ticketlab {command.Name} --help";
            string errors = System.Text.RegularExpressions.Regex.Replace(string.Join(" ", parsed.Errors.Select(e => e.Message)), @"\s+", " ").Trim();
            environment.Stderr.WriteLine($"error: {errors.TrimEnd('.', ':')}. See {help}.");
            return CommandErrors.UsageError;
        }
        return parsed.Invoke(configuration);
    }
}
