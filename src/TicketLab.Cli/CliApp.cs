using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using TicketLab.Cli.Commands;
using TicketLab.Training;

namespace TicketLab.Cli;

/// <summary>The <c>ticketlab</c> command tree. Thin: every command binds options and calls the library.</summary>
public static class CliApp
{
    /// <summary>The command's name in help and errors, however it was started (tool, apphost, <c>dotnet run</c>, tests).</summary>
    public const string CommandName = "ticketlab";

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
            string help = command == root ? $"{CommandName} --help" : $"{CommandName} {command.Name} --help";
            string errors = System.Text.RegularExpressions.Regex.Replace(string.Join(" ", parsed.Errors.Select(e => e.Message)), @"\s+", " ").Trim();
            environment.Stderr.WriteLine($"error: {errors.TrimEnd('.', ':')}. See {help}.");
            return CommandErrors.UsageError;
        }
        return parsed.Invoke(configuration);
    }

    // A Command rather than RootCommand, whose name is the executable's (TicketLab.Cli, or testhost).
    private static Command CreateRoot(CliEnvironment environment, PresetDefaults defaults) =>
        new(CommandName, "TicketLab: lottery-ticket experiments on vision networks (train, prune, rewind, compare).")
        {
            new HelpOption(),
            new VersionOption { Action = new PrintVersion() },
            TrainCommand.Create(environment, defaults),
            LotteryCommand.Create(environment, defaults),
            BranchCommand.Create(environment, defaults),
            AnalysisCommands.Instability(environment, defaults),
            AnalysisCommands.RewindSweep(environment, defaults),
            AnalysisCommands.Compare(environment, defaults),
            AnalyzeCommand.Create(environment, defaults),
            ReportCommand.Create(environment),
            ListCommand.Create(environment),
            InteropCommands.Export(environment),
            InteropCommands.Import(environment),
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

    /// <summary>"ticketlab 0.5.0 (commit 1a2b3c4)": the version and commit that provenance.json records.</summary>
    public static string VersionLine()
    {
        var (version, commit) = Provenance.TicketLabVersion();
        return commit is { Length: > 0 } ? $"{CommandName} {version} (commit {commit[..Math.Min(7, commit.Length)]})" : $"{CommandName} {version}";
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionLine());
            return 0;
        }
    }
}
