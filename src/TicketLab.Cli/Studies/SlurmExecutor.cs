using System.Diagnostics;
using System.Globalization;
using System.Text;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>A Slurm command that failed: which one, and what it said.</summary>
public sealed class SlurmException(string message) : Exception(message);

/// <summary>One submitted job array: its units, its Slurm job id and the arrays it waits for.</summary>
public sealed record SubmittedArray(int Layer, string JobId, IReadOnlyList<StudyUnit> Units, IReadOnlyList<string> After, string Script);

/// <summary>
/// Submits a study's unfinished units to Slurm. Units are grouped in layers by how many unfinished
/// units they wait for (a lottery's level L is in layer L); each layer is one job array, and waits
/// (<c>afterok</c>) for the layers that hold what its units need. Each task runs
/// <c>ticketlab study unit</c> against the store, which must be on a filesystem the nodes share.
/// Finished units are never submitted; a unit that died is submitted again and resumes from its
/// checkpoint; two jobs on one unit take turns on its lock.
/// </summary>
public sealed class SlurmExecutor(string studyFile, StudyPlan plan, UnitSettings settings, SlurmResources resources, CliEnvironment environment)
{
    public IReadOnlyList<SubmittedArray> Submit()
    {
        var store = new ExperimentStore(settings.Root);
        var status = StudyStatus.Read(plan, store);
        var pending = plan.Units.Where(u => status.States[u.Id] is UnitState.Waiting or UnitState.Failed && status.BlockedBy(u) is null).ToArray();
        var pendingIds = pending.Select(u => u.Id).ToHashSet();
        var layer = new Dictionary<string, int>();
        foreach (var unit in pending) // plan order puts every unit after what it needs
            layer[unit.Id] = unit.DependsOn.Where(pendingIds.Contains).Select(d => layer[d] + 1).DefaultIfEmpty(0).Max();
        string folder = Path.Combine(new ExperimentStoreFolder(store).StudyFolder(plan.Study), "slurm", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        var submitted = new List<SubmittedArray>();
        foreach (var group in pending.GroupBy(u => layer[u.Id]).OrderBy(g => g.Key))
        {
            var units = group.ToArray();
            var needs = units.SelectMany(u => u.DependsOn).Where(pendingIds.Contains).Select(d => layer[d]).Distinct()
                .Select(l => submitted.Single(s => s.Layer == l).JobId).ToArray();
            string script = Path.Combine(folder, $"layer_{group.Key}.sh");
            File.WriteAllText(script, Script(units, group.Key, folder));
            string jobId = Sbatch(script, units.Length, needs);
            submitted.Add(new SubmittedArray(group.Key, jobId, units, needs, script));
            environment.Stderr.WriteLine($"submitted job array {jobId}: {units.Length} unit(s) of layer {group.Key}{(needs.Length > 0 ? $", after {string.Join(", ", needs)}" : "")}");
        }
        return submitted;
    }

    private string Script(IReadOnlyList<StudyUnit> units, int layer, string folder)
    {
        var text = new StringBuilder();
        text.AppendLine("#!/bin/bash");
        text.AppendLine($"#SBATCH --job-name=ticketlab-{plan.Study.Name}-{layer}");
        text.AppendLine($"#SBATCH --cpus-per-task={resources.CpusPerTask}");
        text.AppendLine($"#SBATCH --output={folder}/layer_{layer}_%A_%a.out");
        if (resources.Gpus > 0) text.AppendLine($"#SBATCH --gpus={resources.Gpus}");
        if (resources.Memory is { } mem) text.AppendLine($"#SBATCH --mem={mem}");
        if (resources.Time is { } time) text.AppendLine($"#SBATCH --time={time}");
        if (resources.Partition is { } partition) text.AppendLine($"#SBATCH --partition={partition}");
        if (resources.Account is { } account) text.AppendLine($"#SBATCH --account={account}");
        foreach (var line in resources.ExtraSbatchLines) text.AppendLine(line.StartsWith("#SBATCH", StringComparison.Ordinal) ? line : $"#SBATCH {line}");
        text.AppendLine("# One unit per array task; `ticketlab study unit` skips a finished unit and resumes an interrupted one.");
        text.AppendLine("UNITS=(");
        foreach (var unit in units) text.AppendLine($"  {Quote(unit.Id)}");
        text.AppendLine(")");
        var command = UnitRunner.CommandLine(studyFile, units[0], settings with { Threads = null }).ToList();
        int unitIndex = command.IndexOf("--unit") + 1;
        string line2 = string.Join(' ', command.Select((arg, i) => i == unitIndex ? "\"${UNITS[$SLURM_ARRAY_TASK_ID]}\"" : Quote(arg)));
        text.AppendLine($"exec {line2} --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"");
        return text.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    private static string Sbatch(string script, int tasks, IReadOnlyList<string> after)
    {
        var args = new List<string> { "--parsable", $"--array=0-{tasks - 1}" };
        if (after.Count > 0)
        {
            args.Add($"--dependency=afterok:{string.Join(':', after)}");
            args.Add("--kill-on-invalid-dep=yes"); // a failed level cancels what needed it, instead of leaving it pending forever
        }
        args.Add(script);
        string output = RunSlurm("sbatch", args);
        return output.Trim().Split(';')[0];
    }

    /// <summary>Waits until none of the jobs is queued or running.</summary>
    public static void Wait(IReadOnlyList<SubmittedArray> arrays, CancellationToken cancellation)
    {
        if (arrays.Count == 0) return;
        string ids = string.Join(',', arrays.Select(a => a.JobId));
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
