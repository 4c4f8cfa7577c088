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
/// Submits a study's unfinished units to Slurm, one job per unit. Each job waits (<c>afterok</c>) for
/// the jobs of exactly the units its unit needs, and is cancelled by Slurm when one of those ends
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
        foreach (var unit in pending) // plan order puts every unit after what it needs
        {
            // A dependency not submitted now is done, or running elsewhere (the unit's runner waits for it).
            var after = unit.DependsOn.Where(jobs.ContainsKey).Select(d => jobs[d].JobId).ToArray();
            string jobId = Sbatch(script, unit, after, folder);
            jobs[unit.Id] = new SubmittedJob(jobId, unit, after);
            environment.Stderr.WriteLine($"submitted job {jobId}: {unit.Id}{(after.Length > 0 ? $", after {string.Join(", ", after)}" : "")}");
        }
        File.WriteAllLines(Path.Combine(folder, "jobs.tsv"), jobs.Values.Select(j => $"{j.JobId}\t{j.Unit.Id}\t{string.Join(':', j.After)}"));
        return [.. jobs.Values];
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
        text.AppendLine("# One unit per job, named by the job's argument; `ticketlab study unit` skips a finished unit and resumes an interrupted one.");
        text.AppendLine("# Threads are the study's, whatever the CPUs of the job: weights depend on them.");
        var command = UnitRunner.CommandLine(studyFile, plan.Units[0], settings).ToList();
        int unitIndex = command.IndexOf("--unit") + 1;
        text.AppendLine("exec " + string.Join(' ', command.Select((arg, i) => i == unitIndex ? "\"$1\"" : Quote(arg))));
        return text.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    private string Sbatch(string script, StudyUnit unit, IReadOnlyList<string> after, string folder)
    {
        var args = new List<string>
        {
            "--parsable", $"--job-name=ticketlab-{plan.Study.Name}:{unit.Id}",
            $"--output={folder}/{unit.Id.Replace('/', '_')}_%j.out",
        };
        if (after.Count > 0)
        {
            args.Add($"--dependency=afterok:{string.Join(':', after)}");
            args.Add("--kill-on-invalid-dep=yes"); // a failed or cancelled unit cancels what needs it, instead of leaving it pending forever
        }
        args.Add(script);
        args.Add(unit.Id);
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
