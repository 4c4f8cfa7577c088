using TicketLab.Cli.Commands;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>
/// A long-lived worker (<c>ticketlab study worker</c>): reads unit ids on standard input, one a
/// line, runs each as <c>study unit</c> would (its lock, its record, its log) and answers each with
/// one line on standard output, <c>end TAB id TAB exit-code</c>. What the process loads (the dataset)
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
            string id = line.Trim();
            int code = RunLogged(id, plan, settings, store, environment);
            answers.WriteLine($"{Answer}\t{id}\t{code}");
        }
        return environment.Cancellation.IsCancellationRequested ? environment.InterruptExitCode() : 0;
    }

    private static int RunLogged(string id, StudyPlan plan, UnitSettings settings, ExperimentStore store, CliEnvironment environment)
    {
        if (!plan.ById.TryGetValue(id, out var unit))
        {
            environment.Stderr.WriteLine($"error: {plan.Study.SourcePath}: the study has no unit '{id}'.");
            return CommandErrors.UsageError;
        }
        var record = new UnitRecord(new ExperimentStoreFolder(store), unit);
        Directory.CreateDirectory(record.Folder);
        using var log = StandardStreams.AppendTo(record.LogPath);
        log.Writer.WriteLine($"==== {DateTimeOffset.UtcNow:O} {unit.Id} (worker pid {Environment.ProcessId})");
        var unitEnvironment = environment with { Stdout = log.Writer, Stderr = log.Writer, Interactive = false };
        var (stdout, stderr) = (Console.Out, Console.Error);
        Console.SetOut(log.Writer); // anything written to the console directly belongs to the unit too
        Console.SetError(log.Writer);
        try
        {
            return CommandErrors.Guard(unitEnvironment, () => UnitRunner.Run(unit, settings, unitEnvironment, plan, store));
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
