using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>How a pass over a study ended.</summary>
public sealed record StudyRunOutcome(int Done, int Diverged, int Failed, int NotRun, bool Interrupted);

/// <summary>
/// Runs a study's units on this machine with <c>workers</c> long-lived worker processes
/// (<c>ticketlab study worker</c>), each taking unit after unit with the study's threads and the
/// dataset kept loaded. Units start as soon as what they need is done; a unit that fails or diverges
/// stops only the units that need it. A worker that dies takes only its unit with it: the unit is
/// recorded failed with the worker's exit code, and a new worker takes the next unit.
/// </summary>
public sealed class LocalExecutor(string studyFile, StudyPlan plan, UnitSettings settings, int workers, CliEnvironment environment)
{
    public StudyRunOutcome Run()
    {
        var store = new ExperimentStore(settings.Root);
        var folder = new ExperimentStoreFolder(store);
        var pool = new List<WorkerProcess>();
        var triedThisPass = new HashSet<string>();
        int failed = 0;
        bool interrupted = false;
        var waitingOn = plan.Units.ToDictionary(u => u.Id, u => plan.Dependents(u.Id).Count);
        var groups = new UnitGroups(plan);
        using var stop = environment.Cancellation.Register(() =>
        {
            // Each running unit saves a checkpoint and stops, as after SIGTERM; the next run resumes it.
            lock (pool) foreach (var worker in pool) worker.Stop();
        });
        try
        {
            while (true)
            {
                var status = StudyStatus.Read(plan, store);
                if (!environment.Cancellation.IsCancellationRequested)
                {
                    // Units that more work waits on go first (a lottery's next level before its analyses).
                    foreach (var unit in plan.Units.Where(u => status.IsReady(u) && !triedThisPass.Contains(u.Id)).OrderByDescending(u => waitingOn[u.Id]))
                    {
                        var worker = pool.FirstOrDefault(w => w.Units is null);
                        if (worker is null && pool.Count >= workers) break;
                        if (triedThisPass.Contains(unit.Id)) continue; // went with its group
                        // The unit's group members that are ready too train with it (normally all: they wait on the same group before).
                        var group = groups.Of(unit);
                        var units = group.Where(u => u.Id == unit.Id || (status.IsReady(u) && !triedThisPass.Contains(u.Id))).ToArray();
                        // A member whose dependencies still run is waited for, so that which unit finished first never splits a
                        // group: a split group trains alone, and lone weights differ from stacked ones in the last bits.
                        if (group.Except(units).Any(u => !triedThisPass.Contains(u.Id) && status.States[u.Id] is UnitState.Waiting or UnitState.Failed
                                && u.DependsOn.Any(d => status.States[d] == UnitState.Running)))
                            continue;
                        if (worker is null) lock (pool) pool.Add(worker = WorkerProcess.Start(UnitWorker.CommandLine(studyFile, settings)));
                        foreach (var member in units) triedThisPass.Add(member.Id);
                        worker.Assign(units);
                        environment.Stderr.WriteLine(units.Length == 1 ? $"start   {unit.Id}" : $"start   {string.Join(", ", units.Select(u => u.Id))} (together)");
                    }
                }
                var busy = pool.Where(w => w.Units is not null).ToArray();
                if (busy.Length == 0)
                {
                    // Units another process runs (a second `study run`, a Slurm job) may still unblock others: wait for them.
                    bool elsewhere = plan.Units.Any(u => status.States[u.Id] == UnitState.Running);
                    if (!elsewhere || environment.Cancellation.IsCancellationRequested) break;
                    environment.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
                    continue;
                }
                Task.WaitAny(busy.Select(w => w.Reply!).ToArray());
                foreach (var worker in busy.Where(w => w.Reply!.IsCompleted))
                {
                    var (results, seconds) = worker.Collect(out bool died);
                    if (died) lock (pool) pool.Remove(worker);
                    foreach (var (unit, code, answered) in results)
                    {
                        var record = new UnitRecord(folder, unit);
                        if (code != 0) RecordEnd(record, worker, code, !answered);
                        bool stopped = code is Commands.CommandErrors.Interrupted or Commands.CommandErrors.Terminated;
                        string outcome = code switch
                        {
                            0 => "done",
                            UnitRecord.DivergedExitCode => "diverged",
                            _ when stopped => "stopped (resumes on the next run)",
                            _ => $"failed (exit code {code}{(answered ? "" : ", its worker died")}; log: {record.LogPath})",
                        };
                        if (code is not (0 or UnitRecord.DivergedExitCode) && !stopped) failed++;
                        interrupted |= stopped;
                        environment.Stderr.WriteLine($"{(code == 0 ? "done   " : "end    ")} {unit.Id}: {outcome}, {seconds:F0} s");
                    }
                }
            }
        }
        finally
        {
            lock (pool) foreach (var worker in pool) worker.Dispose();
        }
        var final = StudyStatus.Read(plan, store);
        return new StudyRunOutcome(final.Count(UnitState.Done), final.Count(UnitState.Diverged), failed,
            plan.Units.Count(u => final.States[u.Id] is UnitState.Waiting or UnitState.Failed), interrupted || environment.Cancellation.IsCancellationRequested);
    }

    /// <summary>
    /// Closes an attempt the worker left open (a unit whose runner threw; a worker that died), so the
    /// unit reads as failed; a dead worker's unit gets an attempt even if it died before recording one.
    /// </summary>
    private static void RecordEnd(UnitRecord record, WorkerProcess worker, int code, bool died)
    {
        var now = DateTimeOffset.UtcNow;
        var open = record.Attempts.LastOrDefault(a => a.Pid == worker.Pid && a.Ended is null && a.Started >= worker.AssignedAt.AddSeconds(-1));
        if (open is not null) record.Write(open with { Ended = now, ExitCode = code });
        else if (died) record.Write(new UnitAttempt(Environment.MachineName, worker.Pid, worker.AssignedAt, now, code, null));
        if (died) File.AppendAllText(record.LogPath, $"==== {now:O} {record.Unit.Id}: its worker (pid {worker.Pid}) ended with exit code {code} while running it.{Environment.NewLine}");
    }
}
