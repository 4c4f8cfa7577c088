using System.Diagnostics;
using TicketLab.Cli.Studies;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Studies;

/// <summary>
/// A test that needs a running Slurm cluster (scripts/slurm-local.sh starts one; .ci/run does so
/// and sets TICKETLAB_REQUIRE_SLURM=1, so that in CI a cluster that failed to start fails the test
/// instead of skipping it).
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            string nodes = SlurmExecutor.RunSlurm("sinfo", ["--noheader", "--format=%t"]);
            return nodes.Split('\n').Any(s => s.Trim() is "idle" or "mix" or "alloc") ? null : $"no Slurm node is up (sinfo: {nodes.Trim()})";
        }
        catch (SlurmException e)
        {
            return e.Message;
        }
    });

    public SlurmFactAttribute()
    {
        if (Unavailable.Value is { } why && Environment.GetEnvironmentVariable("TICKETLAB_REQUIRE_SLURM") != "1")
            Skip = $"Slurm is not available here ({why}); scripts/slurm-local.sh starts a one-node cluster.";
    }
}

/// <summary>Studies submitted to a real (single-node) Slurm cluster, compared with the local executor.</summary>
[Collection("slurm")] // one cluster: these tests take turns on it
public sealed class SlurmStudyTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public SlurmStudyTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static (int Code, string Out, string Err) Cli(params string[] args) => StudyRunTests.Cli(args);

    [SlurmFact]
    public void Job_arrays_run_every_unit_once_and_the_store_ends_identical_to_the_local_executors()
    {
        string study = temp.Combine("small.toml");
        File.WriteAllText(study, StudyRunTests.SmallStudy);
        string slurmRoot = temp.Combine("slurm-store"), localRoot = temp.Combine("local-store");

        // Submitted twice at once: the twin jobs of each unit take turns on its lock, and the second finds it done.
        var (first, _, firstError) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1");
        Assert.True(first == 0, firstError);
        Assert.Contains("submitted job array", firstError);
        var (second, _, secondError) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1", "--wait");
        Assert.True(second == 0, secondError);
        WaitForQueueToEmpty();

        var status = StudyRunTests.Status(study, slurmRoot);
        Assert.Equal((int)status["total"]!, (int)status["done"]!);
        foreach (var unit in status["units"]!.AsArray())
            Assert.True((int)unit!["attempts"]! == 1, $"{unit["unit"]} ran {unit["attempts"]} times");
        // Each unit ran inside a Slurm job, and the level chain ran in order (afterok).
        var plan = StudyPlan.Expand(Study.Load(study), TicketLab.Cli.CliApp.Accepts);
        var records = plan.Units.ToDictionary(u => u.Id, u => new UnitRecord(new ExperimentStoreFolder(new Store.ExperimentStore(slurmRoot)), u).Attempts.Single());
        Assert.All(records.Values, a => Assert.NotNull(a.SlurmJob));
        Assert.True(records["lottery/replicate_1/level_1"].Started >= records["lottery/replicate_1/level_0"].Ended);

        var (local, _, localError) = Cli("study", "run", study, "--root", localRoot, "--data-dir", data, "--workers", "2", "--threads", "1");
        Assert.True(local == 0, localError);
        StudyRunTests.AssertSameResults(localRoot, slurmRoot);
    }

    [SlurmFact]
    public void A_unit_cancelled_mid_run_resumes_on_resubmission_with_bit_identical_results()
    {
        string study = temp.Combine("long.toml");
        File.WriteAllText(study, """
            name = "long"
            [flags]
            dataset-name = "mnist"
            model-name = "lenet_300_100"
            training-steps = "120ep"
            batch-size = 8
            [[experiment]]
            command = "train"
            """);
        string slurmRoot = temp.Combine("slurm-store"), localRoot = temp.Combine("local-store");
        var (code, _, error) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1");
        Assert.True(code == 0, error);
        string job = error.Split("submitted job array ")[1].Split(':')[0];

        // Cancel once the run has trained a while (its metrics have rows), as a preempted or timed-out job would be.
        var clock = Stopwatch.StartNew();
        string? metrics = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            metrics = Directory.Exists(slurmRoot) ? Directory.EnumerateFiles(slurmRoot, "metrics.csv", SearchOption.AllDirectories).FirstOrDefault() : null;
            if (metrics is not null && File.ReadAllLines(metrics).Length > 20) break;
            Thread.Sleep(200);
        }
        Assert.NotNull(metrics);
        SlurmExecutor.RunSlurm("scancel", [job]);
        WaitForQueueToEmpty();
        var unit = StudyRunTests.Status(study, slurmRoot)["units"]![0]!;
        Assert.Equal("waiting", (string)unit["state"]!);
        Assert.StartsWith("ready; resumes", (string)unit["detail"]!);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(metrics)!, "checkpoint.bin")), "the cancelled job saved a checkpoint");

        var (again, _, againError) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1", "--wait");
        Assert.True(again == 0, againError);
        unit = StudyRunTests.Status(study, slurmRoot)["units"]![0]!;
        Assert.Equal("done", (string)unit["state"]!);
        Assert.Equal(2, (int)unit["attempts"]!);

        var (local, _, localError) = Cli("study", "run", study, "--root", localRoot, "--data-dir", data, "--threads", "1");
        Assert.True(local == 0, localError);
        StudyRunTests.AssertSameResults(localRoot, slurmRoot);
    }

    private static void WaitForQueueToEmpty()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            if (string.IsNullOrWhiteSpace(SlurmExecutor.RunSlurm("squeue", ["--noheader", "--format=%i"]))) return;
            Thread.Sleep(250);
        }
        throw new TimeoutException("Slurm jobs still queued after 180 s");
    }
}
