using System.CommandLine;
using TicketLab.Cli.Commands;

namespace TicketLab.Cli;

/// <summary>The <c>ticketlab</c> command tree. Thin: every command binds options and calls the library.</summary>
public static class CliApp
{
    public static int Run(string[] args, CliEnvironment environment)
    {
        var root = CreateRoot(environment, TrainingCommandSupport.DefaultsFor(args));
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

    private static RootCommand CreateRoot(CliEnvironment environment, PresetDefaults defaults) =>
        new("TicketLab: lottery-ticket experiments on vision networks (train, prune, rewind, compare).")
        {
            TrainCommand.Create(environment, defaults),
            LotteryCommand.Create(environment, defaults),
            BranchCommand.Create(environment, defaults),
            AnalysisCommands.Instability(environment, defaults),
            AnalysisCommands.RewindSweep(environment, defaults),
            AnalysisCommands.Compare(environment, defaults),
            AnalyzeCommand.Create(environment, defaults),
            ReportCommand.Create(environment),
            ListCommand.Create(environment),
            StudyCommand.Create(environment),
        };

    /// <summary>Whether <paramref name="commandPath"/> (<c>branch random_reinit</c>) takes <c>--<paramref name="flag"/></c>.</summary>
    public static bool Accepts(string commandPath, string flag) => FlagsOf.Value.TryGetValue(commandPath, out var flags) && flags.Contains("--" + flag);

    // Every command's flags, by path ("branch random_reinit"), built once.
    private static readonly Lazy<Dictionary<string, HashSet<string>>> FlagsOf = new(() =>
    {
        var result = new Dictionary<string, HashSet<string>>();
        void Visit(Command command, string path)
        {
            result[path] = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
            foreach (var sub in command.Subcommands) Visit(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}");
        }
        Visit(CreateRoot(CliEnvironment.ForTests(TextWriter.Null, TextWriter.Null), TrainingCommandSupport.DefaultsFor([])), "");
        return result;
    });
}
