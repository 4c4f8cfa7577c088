using TicketLab.Cli.Commands;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>
/// A long-lived worker (<c>ticketlab study worker</c>): reads unit ids on standard input, one unit
/// a line or a group that trains together as one line of tab-separated ids, runs each as
/// <c>study unit</c> would (its lock, its record, its log) and answers each with one line on standard output, <c>end TAB id TAB exit-code</c>. What the process loads (the dataset)
/// stays loaded from unit to unit, so a study pays the start-up once per worker instead of once per
/// unit. While a unit runs, descriptors 1 and 2 point at its log, so native libraries' output lands
/// there too. A unit that fails answers its code and the worker takes the next; Ctrl-C or SIGTERM
/// stops the running unit with a checkpoint, answers, and ends the worker.
/// </summary>
public static class UnitWorker
{
    public const string Answer = "end";

    public static int Serve(StudyPlan plan, UnitSettings settings, ExperimentStore store, CliEnvironment environment, TextReader input)
    {
        // Standard output as it is now carries the answers: a unit's output goes to its log.
        using var answers = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        while (!environment.Cancellation.IsCancellationRequested)
        {
            // Read on the side: a stop while idle ends the worker at once, not after the next id arrives.
            var next = Task.Run(input.ReadLine);
            try { next.Wait(environment.Cancellation); }
            catch (OperationCanceledException) { break; }
            if (next.Result is not { } line) break;
            string[] ids = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var codes = ids.Length > 1 ? RunTogetherLogged(ids, plan, settings, store, environment) : new Dictionary<string, int>();
            foreach (var id in ids)
            {
                // A unit the group did not settle runs alone (it says why in its log).
                if (!codes.TryGetValue(id, out int code)) code = environment.Cancellation.IsCancellationRequested ? environment.InterruptExitCode() : RunLogged(id, plan, settings, store, environment);
                answers.WriteLine($"{Answer}\t{id}\t{code}");
            }
        }
        return environment.Cancellation.IsCancellationRequested ? environment.InterruptExitCode() : 0;
    }

    private static int RunLogged(string id, StudyPlan plan, UnitSettings settings, ExperimentStore store, CliEnvironment environment)
    {
        if (!plan.ById.TryGetValue(id, out var unit)) return UnknownUnit(id, plan, environment);
        var record = new UnitRecord(new ExperimentStoreFolder(store), unit);
        Directory.CreateDirectory(record.Folder);
        return InLog(record.LogPath, $"{unit.Id} (worker pid {Environment.ProcessId})", environment,
            unitEnvironment => UnitRunner.Run(unit, settings, unitEnvironment, plan, store));
    }

    private static int UnknownUnit(string id, StudyPlan plan, CliEnvironment environment)
    {
        environment.Stderr.WriteLine($"error: {plan.Study.SourcePath}: the study has no unit '{id}'.");
        return CommandErrors.UsageError;
    }

    /// <summary>
    /// Runs a group of units together (<see cref="UnitRunner.RunTogether"/>). Its output goes to the
    /// first unit's log; each other unit's log says where to look.
    /// </summary>
    private static Dictionary<string, int> RunTogetherLogged(string[] ids, StudyPlan plan, UnitSettings settings, ExperimentStore store, CliEnvironment environment)
    {
        if (ids.FirstOrDefault(id => !plan.ById.ContainsKey(id)) is { } unknown)
        {
            int code = UnknownUnit(unknown, plan, environment);
            return ids.ToDictionary(id => id, _ => code);
        }
        var units = ids.Select(id => plan.ById[id]).ToArray();
        var records = units.Select(u => new UnitRecord(new ExperimentStoreFolder(store), u)).ToArray();
        foreach (var record in records) Directory.CreateDirectory(record.Folder);
        foreach (var record in records.Skip(1))
            File.AppendAllText(record.LogPath, $"==== {DateTimeOffset.UtcNow:O} {record.Unit.Id} (worker pid {Environment.ProcessId}): trains together with {string.Join(", ", ids.Where(id => id != record.Unit.Id))}; the group's output is in {records[0].LogPath}{Environment.NewLine}");
        var codes = new Dictionary<string, int>();
        int guarded = InLog(records[0].LogPath, $"{string.Join(", ", ids)}, together (worker pid {Environment.ProcessId})", environment, unitEnvironment =>
        {
            codes = new Dictionary<string, int>(UnitRunner.RunTogether(units, settings, unitEnvironment, plan, store));
            return 0;
        });
        return guarded == 0 ? codes : []; // a fault outside the command (the store): each unit meets it alone, in its own log
    }

    /// <summary>
    /// Runs <paramref name="run"/> with everything it prints going to the end of <paramref name="logPath"/>
    /// (descriptors 1 and 2 and the console, so native libraries' output too), after a header line; its
    /// faults become exit codes there, as in a command.
    /// </summary>
    private static int InLog(string logPath, string header, CliEnvironment environment, Func<CliEnvironment, int> run)
    {
        using var log = StandardStreams.AppendTo(logPath);
        log.Writer.WriteLine($"==== {DateTimeOffset.UtcNow:O} {header}");
        var unitEnvironment = environment with { Stdout = log.Writer, Stderr = log.Writer, Interactive = false };
        var (stdout, stderr) = (Console.Out, Console.Error);
        Console.SetOut(log.Writer); // anything written to the console directly belongs to the unit too
        Console.SetError(log.Writer);
        try
        {
            return CommandErrors.Guard(unitEnvironment, () => run(unitEnvironment));
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    /// <summary>The command line that starts a worker for the study file.</summary>
    public static IReadOnlyList<string> CommandLine(string studyFile, UnitSettings settings) =>
        [.. UnitRunner.SelfCommand(), "study", "worker", Path.GetFullPath(studyFile), .. settings.Args()];
}
