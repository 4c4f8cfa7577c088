using System.Diagnostics;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>Where a unit runs and with what: the store, the data, and its threads (the study's, so results do not depend on the workers).</summary>
public sealed record UnitSettings(string Root, string? DataDir, bool Download, int Threads)
{
    /// <summary>The options every unit's command gets on top of its own.</summary>
    public IEnumerable<string> Args()
    {
        yield return "--root";
        yield return Root;
        if (DataDir is not null) { yield return "--data-dir"; yield return DataDir; }
        if (Download) yield return "--download";
        yield return "--threads";
        yield return Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Runs one unit in this process (<c>ticketlab study unit</c>): holds the unit's lock, records the
/// attempt, and runs the unit's command. A unit already done returns at once; a unit another
/// process is running is waited for, so a Slurm job whose twin is running never writes the same run.
/// A unit runs with the thread count it started with, and with that of the units it builds on:
/// weights depend on it, so a lineage computed with two counts would match neither.
/// </summary>
public static class UnitRunner
{
    public static int Run(StudyUnit unit, UnitSettings settings, CliEnvironment environment, StudyPlan plan, ExperimentStore store)
    {
        store.EnsureWritable();
        if (!WaitForDependencies(unit, plan, store, environment, out string? missing))
        {
            if (missing is null) return environment.InterruptExitCode();
            environment.Stderr.WriteLine($"error: {unit.Id} needs {missing}, which is {StudyStatus.Read(plan, store).States[missing].ToString().ToLowerInvariant()}; run the study (`ticketlab study run`) rather than this unit alone.");
            return Commands.CommandErrors.DataError;
        }
        var record = new UnitRecord(new ExperimentStoreFolder(store), unit);
        using var unitLock = LockUnit(record, environment);
        if (unitLock is null) return environment.InterruptExitCode();
        switch (record.RecordedState)
        {
            case UnitState.Done:
                environment.Stderr.WriteLine($"{unit.Id}: already done.");
                return 0;
            case UnitState.Diverged:
                environment.Stderr.WriteLine($"error: {unit.Id}: its training diverged in an earlier attempt (see {record.LogPath}); that is its result.");
                return UnitRecord.DivergedExitCode;
        }
        var attempt = NewAttempt(settings);
        if (OtherThreadCount(record, plan, store, settings.Threads) is { } refusal)
        {
            // Recorded as a failed attempt, so the study's status names it and points at this line in the unit's
            // log; without a thread count, since it computed nothing.
            environment.Stderr.WriteLine($"error: {refusal}");
            record.Write(attempt with { Ended = DateTimeOffset.UtcNow, ExitCode = Commands.CommandErrors.UsageError, Threads = null });
            return Commands.CommandErrors.UsageError;
        }
        record.Write(attempt);
        environment.Stderr.WriteLine($"{unit.Id}: ticketlab {string.Join(' ', unit.Args)}");
        int code = RunCommand(unit.Args, unit, settings, plan, environment);
        record.Write(attempt with { Ended = DateTimeOffset.UtcNow, ExitCode = code });
        return code;
    }

    /// <summary>
    /// Runs units of one group (<see cref="UnitGroups"/>) as one command, their networks trained
    /// together, each unit under its own lock and record. Returns the exit code of each unit it
    /// settled; the others run alone after it (<see cref="Run"/>): units whose dependencies are not
    /// done or whose thread count is refused (they say why), all of them when fewer than two could
    /// take part, and all of them when the group's command failed, so that each gets its own outcome
    /// (an alone run reuses every run the group finished, and repeats a divergence at once).
    /// </summary>
    public static IReadOnlyDictionary<string, int> RunTogether(IReadOnlyList<StudyUnit> units, UnitSettings settings, CliEnvironment environment, StudyPlan plan, ExperimentStore store)
    {
        store.EnsureWritable();
        var codes = new Dictionary<string, int>();
        var locks = new List<RunLock>();
        var folder = new ExperimentStoreFolder(store);
        try
        {
            var status = StudyStatus.Read(plan, store);
            var taking = new List<UnitRecord>();
            foreach (var unit in units.Where(u => u.DependsOn.All(d => status.States[d] == UnitState.Done)))
            {
                var record = new UnitRecord(folder, unit);
                var unitLock = LockUnit(record, environment);
                if (unitLock is null) return units.ToDictionary(u => u.Id, _ => environment.InterruptExitCode());
                locks.Add(unitLock);
                if (record.RecordedState is UnitState.Done or UnitState.Diverged) continue; // its alone run says so at once
                if (OtherThreadCount(record, plan, store, settings.Threads) is not null) continue;
                taking.Add(record);
            }
            if (taking.Count < 2) return codes;
            var together = taking.Select(r => r.Unit).ToArray();
            var attempt = NewAttempt(settings);
            foreach (var record in taking) record.Write(attempt);
            var args = UnitGroups.CommandArgs(together);
            environment.Stderr.WriteLine($"{string.Join(", ", together.Select(u => u.Id))}: together: ticketlab {string.Join(' ', args)}");
            int code = RunCommand(args, together[0], settings, plan, environment);
            foreach (var record in taking) record.Write(attempt with { Ended = DateTimeOffset.UtcNow, ExitCode = code });
            if (code is 0 or Commands.CommandErrors.Interrupted or Commands.CommandErrors.Terminated)
                foreach (var unit in together) codes[unit.Id] = code;
            else
                environment.Stderr.WriteLine($"The group ended with exit code {code}: each of its units runs alone now, to give it its own outcome.");
            return codes;
        }
        finally
        {
            foreach (var unitLock in locks) unitLock.Dispose();
        }
    }

    /// <summary>A unit's lock, waited for (saying once who holds it); null when cancelled while waiting.</summary>
    private static RunLock? LockUnit(UnitRecord record, CliEnvironment environment)
    {
        Directory.CreateDirectory(record.Folder);
        return RunLock.AcquireWaiting(record.Folder, environment.Cancellation, holder => environment.Stderr.WriteLine($"{record.Unit.Id}: waiting: {holder}."));
    }

    /// <summary>An attempt starting now in this process (and Slurm job), with the study's threads.</summary>
    private static UnitAttempt NewAttempt(UnitSettings settings) =>
        new(Environment.MachineName, Environment.ProcessId, DateTimeOffset.UtcNow, null, null, SlurmJob(), settings.Threads);

    /// <summary>Runs a unit's (or a group's) command in this process, with the study's settings, waiting for run locks rather than refusing.</summary>
    private static int RunCommand(IEnumerable<string> args, StudyUnit unit, UnitSettings settings, StudyPlan plan, CliEnvironment environment) =>
        CliApp.Run([.. args, .. settings.Args(), .. NetworksArgs(unit, plan), "--quiet"], environment with { NameOnly = null, WaitForLocks = true });

    /// <summary>The study's <c>networks_per_process</c>, for the commands that take it (a branch's networks, compare's controls, instability's copies).</summary>
    private static IEnumerable<string> NetworksArgs(StudyUnit unit, StudyPlan plan) =>
        CliApp.Accepts(unit.Command, "networks-per-process")
            ? ["--networks-per-process", plan.Study.NetworksPerProcess.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            : [];

    /// <summary>Why the unit may not run with <paramref name="threads"/>: it started with another count, or a unit it builds on ran with one.</summary>
    private static string? OtherThreadCount(UnitRecord record, StudyPlan plan, ExperimentStore store, int threads)
    {
        static string Fix(int count, string folder) =>
            $"Set the study's threads = {count} (or study run --threads {count}), or remove {folder} and the runs it wrote to start afresh.";
        if (record.StartedWithThreads is { } started && started != threads)
            return $"{record.Unit.Id} started with {started} thread(s) and would resume with {threads}; its weights would mix both counts. {Fix(started, record.Folder)}";
        var folder = new ExperimentStoreFolder(store);
        foreach (var dependency in record.Unit.DependsOn.Select(d => new UnitRecord(folder, plan.ById[d])))
            if (dependency.StartedWithThreads is { } used && used != threads)
                return $"{record.Unit.Id} builds on {dependency.Unit.Id}, computed with {used} thread(s), and would run with {threads}; its results would mix both counts. {Fix(used, dependency.Folder)}";
        return null;
    }

    /// <summary>Waits while a unit this one needs is running elsewhere; false (naming it) when one is not done, or when interrupted (null).</summary>
    private static bool WaitForDependencies(StudyUnit unit, StudyPlan plan, ExperimentStore store, CliEnvironment environment, out string? missing)
    {
        missing = null;
        while (true)
        {
            var status = StudyStatus.Read(plan, store);
            var notDone = unit.DependsOn.Where(d => status.States[d] != UnitState.Done).ToArray();
            if (notDone.Length == 0) return true;
            if (notDone.Any(d => status.States[d] != UnitState.Running))
            {
                missing = notDone.First(d => status.States[d] != UnitState.Running);
                return false;
            }
            if (environment.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(1))) return false;
        }
    }

    private static string? SlurmJob() =>
        Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID") is { } array
            ? $"{array}_{Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID")}"
            : Environment.GetEnvironmentVariable("SLURM_JOB_ID");

    /// <summary>How to start this program again: its apphost, else <c>dotnet</c> with its assembly; TICKETLAB_COMMAND overrides.</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        if (Environment.GetEnvironmentVariable("TICKETLAB_COMMAND") is { Length: > 0 } command)
            return command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string assembly = typeof(CliApp).Assembly.Location;
        string apphost = Path.ChangeExtension(assembly, null);
        if (File.Exists(apphost) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(apphost) & UnixFileMode.UserExecute) != 0)) return [apphost];
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return [host, assembly];
    }

    /// <summary>The command line that runs <paramref name="unit"/> of the study file in a new process.</summary>
    public static IReadOnlyList<string> CommandLine(string studyFile, StudyUnit unit, UnitSettings settings) =>
        [.. SelfCommand(), "study", "unit", Path.GetFullPath(studyFile), "--unit", unit.Id, .. settings.Args()];
}
