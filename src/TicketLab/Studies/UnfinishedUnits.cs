namespace TicketLab.Studies;

/// <summary>How a study's pass ended, as its exit code tells it.</summary>
public enum StudyEnding
{
    /// <summary>Every unit is done.</summary>
    Done,
    /// <summary>Every unit is done or diverged, or waits on one that diverged: final results, nothing to run again.</summary>
    Diverged,
    /// <summary>A unit failed (an error): fix the cause and run again.</summary>
    Failed,
    /// <summary>Units neither done nor failed: cancelled, stopped, never run, or waiting on one of those.</summary>
    NotDone,
}

/// <summary>A unit that is not done, and why, in words.</summary>
public sealed record UnfinishedUnit(string Id, UnitState State, string Reason);

/// <summary>
/// The units of a study that are not done, each with why (failed with code N, cancelled, waiting on a
/// unit that failed, never ran), and what that makes of the pass: what <c>study run</c> prints and
/// exits with when it ends with work left.
/// </summary>
public static class UnfinishedUnits
{
    /// <param name="jobOf">Each unit's Slurm job, when the units were submitted: a unit that never ran names its job.</param>
    public static IReadOnlyList<UnfinishedUnit> Of(StudyStatus status, IReadOnlyDictionary<string, string>? jobOf = null) =>
        status.Plan.Units.Where(u => status.States[u.Id] != UnitState.Done)
            .Select(u => new UnfinishedUnit(u.Id, status.States[u.Id], Reason(status, u, jobOf))).ToArray();

    public static StudyEnding Ending(StudyStatus status)
    {
        var notDone = status.Plan.Units.Where(u => status.States[u.Id] != UnitState.Done).ToArray();
        if (notDone.Length == 0) return StudyEnding.Done;
        if (notDone.Any(u => status.States[u.Id] == UnitState.Failed)) return StudyEnding.Failed;
        bool settled = notDone.All(u => status.States[u.Id] == UnitState.Diverged
            || (status.BlockedBy(u) is { } blocker && status.States[blocker] == UnitState.Diverged));
        return settled ? StudyEnding.Diverged : StudyEnding.NotDone;
    }

    private static string Reason(StudyStatus status, StudyUnit unit, IReadOnlyDictionary<string, string>? jobOf)
    {
        var record = status.Records[unit.Id];
        var last = record.Attempts.LastOrDefault();
        switch (status.States[unit.Id])
        {
            case UnitState.Diverged:
                return "diverged (a result; not run again)";
            case UnitState.Failed:
                return $"failed with exit code {last?.ExitCode}; log: {record.LogPath}";
            case UnitState.Running:
                return last?.SlurmJob is { } job ? $"still running (Slurm job {job})" : $"still running (pid {last?.Pid} on {last?.Host})";
        }
        if (status.BlockedBy(unit) is { } blocker)
            return $"waiting on {blocker}, which {StateWord(status, blocker)}";
        if (unit.DependsOn.Any(d => status.States[d] != UnitState.Done))
        {
            // Name the unit that holds the chain up, not the next link that waits as well.
            string root = unit.Id;
            while (status.Plan.ById[root].DependsOn.FirstOrDefault(d => status.States[d] != UnitState.Done) is { } up) root = up;
            return $"waiting on {root}, which {StateWord(status, root)}";
        }
        return last switch
        {
            { ExitCode: UnitRecord.StoppedBySigTerm or UnitRecord.StoppedBySigInt } =>
                $"stopped with exit code {last.ExitCode} (cancelled, preempted or interrupted{(last.SlurmJob is { } j ? $"; Slurm job {j}" : "")}); resumes from its checkpoint on the next run",
            { Ended: null } => $"stopped without recording its end (killed{(last.SlurmJob is { } j ? $"; Slurm job {j}" : "")}); resumes from its checkpoint on the next run",
            _ => jobOf is not null && jobOf.TryGetValue(unit.Id, out var submitted)
                ? $"never ran (Slurm job {submitted} left the queue without running it: cancelled, or what it waits on was)"
                : "never ran",
        };
    }

    /// <summary>What the unit another waits on is: "failed", "was stopped before it finished", "never ran"...</summary>
    private static string StateWord(StudyStatus status, string id) => status.States[id] switch
    {
        UnitState.Failed => "failed",
        UnitState.Diverged => "diverged",
        UnitState.Running => "is still running",
        _ when status.Records[id].Attempts.Count > 0 => "was stopped before it finished",
        _ => "never ran",
    };
}
