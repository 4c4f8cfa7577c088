using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using TicketLab.Cli.Commands;
using TicketLab.Experiments;
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
            // The help of the command as typed, subcommands included (ticketlab study run --help).
            var path = new List<string>();
            for (var result = parsed.CommandResult; result is not null && result.Command != root; result = result.Parent as System.CommandLine.Parsing.CommandResult)
                path.Insert(0, result.Command.Name);
            string help = string.Join(' ', [CommandName, .. path, "--help"]);
            string errors = System.Text.RegularExpressions.Regex.Replace(string.Join(" ", parsed.Errors.Select(e => e.Message)), @"\s+", " ").Trim();
            environment.Stderr.WriteLine($"error: {errors.TrimEnd('.', ':')}. See {help}.");
            return CommandErrors.UsageError;
        }
        return parsed.Invoke(configuration);
    }

    // A Command rather than RootCommand, whose name is the executable's (TicketLab.Cli, or testhost).
    private static Command CreateRoot(CliEnvironment environment, PresetDefaults defaults)
    {
        var root = new Command(CommandName, "TicketLab: lottery-ticket experiments on vision networks (train, prune, rewind, compare).")
        {
            new HelpOption(),
            new VersionOption { Action = new PrintVersion() },
        };
        // One command per registered experiment kind that has one (train, lottery, instability, rewind-sweep, ...).
        foreach (var kind in ExperimentRegistry.All.Where(kind => kind.CommandDescription is not null))
            root.Subcommands.Add(KindCommand.Create(kind, environment, defaults));
        root.Subcommands.Add(BranchCommand.Create(environment, defaults));
        root.Subcommands.Add(AnalyzeCommand.Create(environment, defaults));
        // `compare` was a command before it became a registered analysis; kept as the shortcut of `analyze compare`.
        root.Subcommands.Add(AnalyzeCommand.CreateFor(LevelAnalysisRegistry.Get("compare"), environment, defaults));
        root.Subcommands.Add(ReportCommand.Create(environment));
        root.Subcommands.Add(ListCommand.Create(environment));
        root.Subcommands.Add(ResultsCommand.Create(environment));
        root.Subcommands.Add(InteropCommands.Export(environment));
        root.Subcommands.Add(InteropCommands.Import(environment));
        root.Subcommands.Add(StudyCommand.Create(environment));
        return root;
    }

    /// <summary>Whether <paramref name="commandPath"/> (<c>branch random_reinit</c>) takes <c>--<paramref name="flag"/></c>.</summary>
    public static bool Accepts(string commandPath, string flag) => FlagsOf().TryGetValue(commandPath, out var flags) && flags.Contains("--" + flag);

    // Every command's flags, by path ("branch random_reinit"), built once per set of registered kinds and analyses.
    private static (IReadOnlyList<object> Registered, Dictionary<string, HashSet<string>> Flags)? flagsCache;
    private static readonly Lock FlagsGate = new();

    private static Dictionary<string, HashSet<string>> FlagsOf()
    {
        IReadOnlyList<object> registered = [ExperimentRegistry.All, LevelAnalysisRegistry.All];
        lock (FlagsGate)
        {
            if (flagsCache is { } cached && cached.Registered.SequenceEqual(registered)) return cached.Flags;
            var result = new Dictionary<string, HashSet<string>>();
            void Visit(Command command, string path)
            {
                result[path] = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
                foreach (var sub in command.Subcommands) Visit(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}");
            }
            Visit(CreateRoot(CliEnvironment.ForTests(TextWriter.Null, TextWriter.Null), TrainingCommandSupport.DefaultsFor([])), "");
            flagsCache = (registered, result);
            return result;
        }
    }

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
