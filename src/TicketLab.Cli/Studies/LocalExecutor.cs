using System.Diagnostics;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>How a pass over a study ended.</summary>
public sealed record StudyRunOutcome(int Done, int Diverged, int Failed, int NotRun, bool Interrupted);

/// <summary>
/// Runs a study's units on this machine, <c>workers</c> processes at a time, each a
/// <c>ticketlab study unit</c> with its share of the cores. Units start as soon as what they need
/// is done; a unit that fails or diverges stops only the units that need it.
/// </summary>
public sealed class LocalExecutor(string studyFile, StudyPlan plan, UnitSettings settings, int workers, CliEnvironment environment)
{
    private sealed record Running(StudyUnit Unit, Process Process, Task Exited, Stopwatch Clock, StreamWriter Log);

    public StudyRunOutcome Run()
    {
        var store = new ExperimentStore(settings.Root);
        var folder = new ExperimentStoreFolder(store);
        var running = new List<Running>();
        var triedThisPass = new HashSet<string>();
        int failed = 0;
        bool interrupted = false;
        var waitingOn = plan.Units.ToDictionary(u => u.Id, u => plan.Dependents(u.Id).Count);
        using var stop = environment.Cancellation.Register(() =>
        {
            // Each unit saves a checkpoint and stops, as after SIGTERM; the next run resumes it.
            lock (running) foreach (var r in running) Signal(r.Process, Signals.SigTerm);
        });
        while (true)
        {
            var status = StudyStatus.Read(plan, store);
            if (!environment.Cancellation.IsCancellationRequested)
            {
                // Units that more work waits on go first (a lottery's next level before its analyses).
                foreach (var unit in plan.Units.Where(u => status.IsReady(u) && !triedThisPass.Contains(u.Id)).OrderByDescending(u => waitingOn[u.Id]))
                {
                    if (running.Count >= workers) break;
                    triedThisPass.Add(unit.Id);
                    lock (running) running.Add(Start(unit, new UnitRecord(folder, unit)));
                    environment.Stderr.WriteLine($"start   {unit.Id}");
                }
            }
            if (running.Count == 0)
            {
                // Units another process runs (a second `study run`, a Slurm job) may still unblock others: wait for them.
                bool elsewhere = plan.Units.Any(u => status.States[u.Id] == UnitState.Running);
                if (!elsewhere || environment.Cancellation.IsCancellationRequested) break;
                environment.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
                continue;
            }
            Task.WaitAny(running.Select(r => r.Exited).ToArray());
            foreach (var done in running.Where(r => r.Exited.IsCompleted).ToArray())
            {
                lock (running) running.Remove(done);
                done.Log.Dispose();
                int code = done.Process.ExitCode;
                string seconds = $"{done.Clock.Elapsed.TotalSeconds:F0} s";
                string outcome = code switch
                {
                    0 => "done",
                    UnitRecord.DivergedExitCode => "diverged",
                    Commands.CommandErrors.Interrupted or Commands.CommandErrors.Terminated => "stopped (resumes on the next run)",
                    _ => $"failed (exit code {code}; log: {new UnitRecord(folder, done.Unit).LogPath})",
                };
                if (code is not (0 or UnitRecord.DivergedExitCode or Commands.CommandErrors.Interrupted or Commands.CommandErrors.Terminated)) failed++;
                if (code is Commands.CommandErrors.Interrupted or Commands.CommandErrors.Terminated) interrupted = true;
                environment.Stderr.WriteLine($"{(code == 0 ? "done   " : "end    ")} {done.Unit.Id}: {outcome}, {seconds}");
                done.Process.Dispose();
            }
        }
        var final = StudyStatus.Read(plan, store);
        return new StudyRunOutcome(final.Count(UnitState.Done), final.Count(UnitState.Diverged), failed,
            plan.Units.Count(u => final.States[u.Id] is UnitState.Waiting or UnitState.Failed), interrupted || environment.Cancellation.IsCancellationRequested);
    }

    private Running Start(StudyUnit unit, UnitRecord record)
    {
        Directory.CreateDirectory(record.Folder);
        var log = new StreamWriter(record.LogPath, append: true) { AutoFlush = true };
        log.WriteLine($"==== {DateTimeOffset.UtcNow:O} {unit.Id}");
        var commandLine = UnitRunner.CommandLine(studyFile, unit, settings);
        var start = new ProcessStartInfo(commandLine[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in commandLine.Skip(1)) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {commandLine[0]}");
        void Copy(object? _, DataReceivedEventArgs e) { if (e.Data is not null) lock (log) log.WriteLine(e.Data); }
        process.OutputDataReceived += Copy;
        process.ErrorDataReceived += Copy;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Running(unit, process, process.WaitForExitAsync(), Stopwatch.StartNew(), log);
    }

    private static void Signal(Process process, int signal)
    {
        try { if (!process.HasExited) Signals.Send(process.Id, signal); }
        catch (InvalidOperationException) { }
    }
}
