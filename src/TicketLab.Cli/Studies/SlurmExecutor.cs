using System.Diagnostics;
using System.Globalization;
using System.Text;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>A Slurm command that failed: which one, and what it said.</summary>
public sealed class SlurmException(string message) : Exception(message);

/// <summary>One submitted job: its unit, its Slurm job id and the jobs it waits for.</summary>
public sealed record SubmittedJob(string JobId, StudyUnit Unit, IReadOnlyList<string> After);

/// <summary>
/// Submits a study's unfinished units to Slurm, one job per unit, or per group of units that train
/// together (<see cref="UnitGroups"/>, as local workers run them: the same weights either way). Each
/// job waits (<c>afterok</c>) for the jobs of exactly the units its units need, and is cancelled by Slurm when one of those ends
/// without success (<c>--kill-on-invalid-dep</c>), so a cancelled or failed unit stops only what needs
/// it. (Job arrays were used before: a dependency names a whole array, so one cancelled task cancelled
/// every unit of the next layer.) Each job runs <c>ticketlab study unit</c> against the store, which
/// must be on a filesystem the nodes share. Finished units are never submitted; a unit that died is
/// submitted again and resumes from its checkpoint; two jobs on one unit take turns on its lock.
/// </summary>
public sealed class SlurmExecutor(string studyFile, StudyPlan plan, UnitSettings settings, SlurmResources resources, CliEnvironment environment)
{
    public IReadOnlyList<SubmittedJob> Submit()
    {
        var store = new ExperimentStore(settings.Root);
        var status = StudyStatus.Read(plan, store);
        var pending = plan.Units.Where(u => status.States[u.Id] is UnitState.Waiting or UnitState.Failed && status.BlockedBy(u) is null).ToArray();
        string folder = Path.Combine(new ExperimentStoreFolder(store).StudyFolder(plan.Study), "slurm", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        string script = Path.Combine(folder, "unit.sh");
        File.WriteAllText(script, Script());
        var jobs = new Dictionary<string, SubmittedJob>();
        var groups = new UnitGroups(plan);
        var pendingIds = pending.Select(u => u.Id).ToHashSet();
        // By depth, so that a group's members all come after everything any of them needs.
        foreach (var unit in pending.OrderBy(u => Depth(u)))
        {
            if (jobs.ContainsKey(unit.Id)) continue; // went with its group
            var units = groups.Of(unit).Where(u => u.Id == unit.Id || (pendingIds.Contains(u.Id) && !jobs.ContainsKey(u.Id))).ToArray();
            // A dependency not submitted now is done, or running elsewhere (the unit's runner waits for it).
            var after = units.SelectMany(u => u.DependsOn).Where(jobs.ContainsKey).Select(d => jobs[d].JobId).Distinct().ToArray();
            string jobId = Sbatch(script, units, after, folder);
            foreach (var member in units) jobs[member.Id] = new SubmittedJob(jobId, member, after);
            environment.Stderr.WriteLine($"submitted job {jobId}: {string.Join(", ", units.Select(u => u.Id))}{(units.Length > 1 ? " (together)" : "")}{(after.Length > 0 ? $", after {string.Join(", ", after)}" : "")}");
        }
        File.WriteAllLines(Path.Combine(folder, "jobs.tsv"), jobs.Values.Select(j => $"{j.JobId}\t{j.Unit.Id}\t{string.Join(':', j.After)}"));
        return [.. jobs.Values];
    }

    private readonly Dictionary<string, int> depths = [];

    /// <summary>How many units lie before the unit on its longest chain of dependencies.</summary>
    private int Depth(StudyUnit unit)
    {
        if (depths.TryGetValue(unit.Id, out int known)) return known;
        return depths[unit.Id] = unit.DependsOn.Select(d => Depth(plan.ById[d]) + 1).DefaultIfEmpty(0).Max();
    }

    /// <summary>The job script: runs the unit named by its argument.</summary>
    private string Script()
    {
        var text = new StringBuilder();
        text.AppendLine("#!/bin/bash");
        text.AppendLine($"#SBATCH --cpus-per-task={resources.CpusPerTask ?? settings.Threads}");
        if (resources.Gpus > 0) text.AppendLine($"#SBATCH --gpus={resources.Gpus}");
        if (resources.Memory is { } mem) text.AppendLine($"#SBATCH --mem={mem}");
        if (resources.Time is { } time) text.AppendLine($"#SBATCH --time={time}");
        if (resources.Partition is { } partition) text.AppendLine($"#SBATCH --partition={partition}");
        if (resources.Account is { } account) text.AppendLine($"#SBATCH --account={account}");
        foreach (var line in resources.ExtraSbatchLines) text.AppendLine(line.StartsWith("#SBATCH", StringComparison.Ordinal) ? line : $"#SBATCH {line}");
        text.AppendLine("# One unit per job, or a group that trains together, named by the job's arguments; `ticketlab study unit`");
        text.AppendLine("# skips a finished unit and resumes an interrupted one. Threads are the study's, whatever the CPUs of the job:");
        text.AppendLine("# weights depend on them.");
        text.AppendLine("units=(); for unit in \"$@\"; do units+=(--unit \"$unit\"); done");
        var command = UnitRunner.CommandLine(studyFile, plan.Units[0], settings).ToList();
        int unitIndex = command.IndexOf("--unit");
        command.RemoveRange(unitIndex, 2);
        text.AppendLine("exec " + string.Join(' ', command.Select(Quote)) + " \"${units[@]}\"");
        return text.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    private string Sbatch(string script, IReadOnlyList<StudyUnit> units, IReadOnlyList<string> after, string folder)
    {
        var args = new List<string>
        {
            "--parsable", $"--job-name=ticketlab-{plan.Study.Name}:{units[0].Id}{(units.Count > 1 ? $"+{units.Count - 1}" : "")}",
            $"--output={folder}/{units[0].Id.Replace('/', '_')}_%j.out",
        };
        if (after.Count > 0)
        {
            args.Add($"--dependency=afterok:{string.Join(':', after)}");
            args.Add("--kill-on-invalid-dep=yes"); // a failed or cancelled unit cancels what needs it, instead of leaving it pending forever
        }
        args.Add(script);
        args.AddRange(units.Select(u => u.Id));
        string output = RunSlurm("sbatch", args);
        return output.Trim().Split(';')[0];
    }

    /// <summary>Waits until none of the jobs is queued or running.</summary>
    public static void Wait(IReadOnlyList<SubmittedJob> jobs, CancellationToken cancellation)
    {
        if (jobs.Count == 0) return;
        string ids = string.Join(',', jobs.Select(a => a.JobId));
        while (!cancellation.IsCancellationRequested)
        {
            string queue = RunSlurm("squeue", ["--noheader", "--format=%i", $"--jobs={ids}"], allowFailure: true);
            if (string.IsNullOrWhiteSpace(queue)) return;
            cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
        }
    }

    public static string RunSlurm(string program, IReadOnlyList<string> args, bool allowFailure = false)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new SlurmException($"{program} was not found: --executor slurm needs the Slurm client commands on PATH (on Debian: apt install slurm-client; scripts/slurm-local.sh starts a one-machine cluster).");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 && !allowFailure)
                throw new SlurmException($"{program} {string.Join(' ', args)} failed (exit code {process.ExitCode}): {stderr.Trim().Split('\n')[0]}");
            return stdout.Result;
        }
    }
}
