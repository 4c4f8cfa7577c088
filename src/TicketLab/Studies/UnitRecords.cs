using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Store;

namespace TicketLab.Studies;

/// <summary>Where a unit of a study stands.</summary>
public enum UnitState
{
    /// <summary>Not run yet (or stopped before finishing, and will resume); <c>ready</c> when what it needs is done.</summary>
    Waiting,
    Running,
    Done,
    /// <summary>Its training diverged: a final result, not rerun.</summary>
    Diverged,
    /// <summary>It ended with an error; the next <c>study run</c> runs it again (from its checkpoint).</summary>
    Failed,
}

/// <summary>
/// One execution of a unit: where, when, with how many threads (null in records older than the
/// count), and how it ended (exit code; null while running or after a crash).
/// </summary>
public sealed record UnitAttempt(string Host, int Pid, DateTimeOffset Started, DateTimeOffset? Ended, int? ExitCode, string? SlurmJob, int? Threads = null);

/// <summary>
/// What the store knows of one unit: <c>&lt;root&gt;/studies/units/&lt;key&gt;/</c> holds
/// <c>unit.json</c> (its command line and attempts), <c>log.txt</c> (its output under the local
/// executor) and, while it runs, the run lock that keeps two processes, or two Slurm jobs, from
/// running it at once.
/// </summary>
public sealed class UnitRecord
{
    public const int DivergedExitCode = 4;
    public const int StoppedBySigInt = 130;
    public const int StoppedBySigTerm = 143;

    public UnitRecord(ExperimentStoreFolder store, StudyUnit unit)
    {
        Unit = unit;
        Folder = Path.Combine(store.UnitsFolder, unit.Key);
    }

    public StudyUnit Unit { get; }
    public string Folder { get; }
    public string RecordPath => Path.Combine(Folder, "unit.json");
    public string LogPath => Path.Combine(Folder, "log.txt");

    public IReadOnlyList<UnitAttempt> Attempts => Read()?["attempts"] is JsonArray attempts
        ? attempts.Select(a => new UnitAttempt(
            (string?)a!["host"] ?? "?", (int?)a["pid"] ?? 0,
            DateTimeOffset.Parse((string)a["started"]!, CultureInfo.InvariantCulture),
            (string?)a["ended"] is { } e ? DateTimeOffset.Parse(e, CultureInfo.InvariantCulture) : null,
            (int?)a["exit_code"], (string?)a["slurm_job"], (int?)a["threads"])).ToArray()
        : [];

    public UnitState State => RunLock.IsHeld(Folder) ? UnitState.Running : RecordedState;

    /// <summary>The state the attempts record, ignoring whether a process runs the unit now (its own runner holds the lock).</summary>
    public UnitState RecordedState
    {
        get
        {
            return Attempts.LastOrDefault() switch
            {
                null => UnitState.Waiting,
                { ExitCode: 0 } => UnitState.Done,
                { ExitCode: DivergedExitCode } => UnitState.Diverged,
                // Interrupted (Ctrl-C, SIGTERM, scancel) or killed: it resumes from its checkpoint when run again.
                { ExitCode: null or StoppedBySigInt or StoppedBySigTerm } => UnitState.Waiting,
                _ => UnitState.Failed,
            };
        }
    }

    /// <summary>The threads of the attempt that started the unit: every later attempt resumes its weights, so must use the same.</summary>
    public int? StartedWithThreads => Attempts.FirstOrDefault(a => a.Threads is not null)?.Threads;

    /// <summary>Final states: nothing to run again.</summary>
    public bool IsSettled => State is UnitState.Done or UnitState.Diverged;

    private JsonObject? Read() => JsonRead.ObjectFile(RecordPath);

    /// <summary>Adds an attempt (ended, or started when <paramref name="attempt"/> has no end) to the record, replacing the one with the same start and pid.</summary>
    public void Write(UnitAttempt attempt)
    {
        Directory.CreateDirectory(Folder);
        var attempts = Attempts.Where(a => !(a.Pid == attempt.Pid && a.Started == attempt.Started && a.Host == attempt.Host)).Append(attempt);
        var json = new JsonObject
        {
            ["unit"] = Unit.Id,
            ["args"] = new JsonArray(Unit.Args.Select(a => (JsonNode)a).ToArray()),
            ["attempts"] = new JsonArray(attempts.Select(a => (JsonNode)new JsonObject
            {
                ["host"] = a.Host, ["pid"] = a.Pid, ["started"] = a.Started.ToString("O", CultureInfo.InvariantCulture),
                ["ended"] = a.Ended?.ToString("O", CultureInfo.InvariantCulture), ["exit_code"] = a.ExitCode, ["slurm_job"] = a.SlurmJob, ["threads"] = a.Threads,
            }).ToArray()),
        };
        AtomicFile.WriteJson(RecordPath, json);
    }
}

/// <summary>The study folders of an experiment store: <c>&lt;root&gt;/studies/</c>.</summary>
public sealed class ExperimentStoreFolder(ExperimentStore store)
{
    public ExperimentStore Store { get; } = store;
    public string StudiesFolder => Path.Combine(Store.Root, "studies");
    public string UnitsFolder => Path.Combine(StudiesFolder, "units");
    public string StudyFolder(Study study) => Path.Combine(StudiesFolder, study.Name);
}

/// <summary>The states of a study's units, as the store holds them now.</summary>
public sealed class StudyStatus
{
    private StudyStatus(StudyPlan plan, IReadOnlyDictionary<string, UnitRecord> records, IReadOnlyDictionary<string, UnitState> states)
    {
        Plan = plan;
        Records = records;
        States = states;
    }

    public StudyPlan Plan { get; }
    public IReadOnlyDictionary<string, UnitRecord> Records { get; }
    public IReadOnlyDictionary<string, UnitState> States { get; }

    public static StudyStatus Read(StudyPlan plan, ExperimentStore store)
    {
        var folder = new ExperimentStoreFolder(store);
        var records = plan.Units.ToDictionary(u => u.Id, u => new UnitRecord(folder, u));
        return new StudyStatus(plan, records, records.ToDictionary(r => r.Key, r => r.Value.State));
    }

    /// <summary>A waiting unit whose every dependency is done.</summary>
    public bool IsReady(StudyUnit unit) =>
        States[unit.Id] is UnitState.Waiting or UnitState.Failed && unit.DependsOn.All(d => States[d] == UnitState.Done);

    /// <summary>A unit that cannot run in this pass: something it needs diverged or failed (directly or further up).</summary>
    public string? BlockedBy(StudyUnit unit)
    {
        foreach (var dependency in unit.DependsOn)
        {
            if (States[dependency] is UnitState.Diverged or UnitState.Failed) return dependency;
            if (BlockedBy(Plan.ById[dependency]) is { } upstream) return upstream;
        }
        return null;
    }

    public int Count(UnitState state) => States.Values.Count(s => s == state);
}
