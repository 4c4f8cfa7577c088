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
    public void Jobs_run_every_unit_once_and_the_store_ends_identical_to_the_local_executors()
    {
        string study = temp.Combine("small.toml");
        File.WriteAllText(study, StudyRunTests.SmallStudy);
        string slurmRoot = temp.Combine("slurm-store"), localRoot = temp.Combine("local-store");

        // Submitted twice at once: the twin jobs of each unit take turns on its lock, and the second finds it done.
        var (first, _, firstError) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1");
        Assert.True(first == 0, firstError);
        Assert.Contains("submitted job ", firstError);
        Assert.Contains(": lottery/replicate_1/level_1, after ", firstError); // one job per unit, after the job of its level 0
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
        string job = error.Split("submitted job ")[1].Split(':')[0];

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

    [SlurmFact]
    public async Task A_cancelled_unit_stops_only_the_units_that_need_it__and_the_wait_exits_non_zero()
    {
        string study = temp.Combine("tiny.toml");
        // One job per unit (networks_per_process = 1, the default on CPUs): a grouped study's job holds the same level of several replicates.
        File.WriteAllText(study, StudyRunTests.TinyStudy.Replace("levels = 1", "levels = 2").Replace("name = \"tiny\"", "name = \"tiny\"\nnetworks_per_process = 1"));
        string root = temp.Combine("slurm-store");
        var run = Task.Run(() => Cli("study", "run", study, "--root", root, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1", "--wait"));
        // Cancelled as soon as it is queued: a unit's process takes seconds to start, so it cannot finish first.
        string job = WaitForJob("ticketlab-tiny:lottery/replicate_1/level_0");
        SlurmExecutor.RunSlurm("scancel", [job]);
        var (code, _, error) = await run;

        Assert.Equal(TicketLab.Cli.Commands.CommandErrors.UnitsNotDone, code);
        var units = StudyRunTests.Status(study, root)["units"]!.AsArray().ToDictionary(u => (string)u!["unit"]!, u => (string)u!["state"]!);
        string[] dependents = ["lottery/replicate_1/level_1", "lottery/replicate_1/level_2"];
        Assert.Equal("waiting", units["lottery/replicate_1/level_0"]);
        Assert.All(dependents, d => Assert.Equal("waiting", units[d]));
        // Everything else ran, the other lottery's later levels included (a layer's job array would have lost them).
        Assert.All(units.Where(u => u.Key != "lottery/replicate_1/level_0" && !dependents.Contains(u.Key)), u => Assert.Equal("done", u.Value));
        Assert.Contains("3 unit(s) not done:", error);
        Assert.Contains($"  lottery/replicate_1/level_1: waiting on lottery/replicate_1/level_0", error);
        Assert.Contains("error: 3 unit(s) are not done", error);
        // The dependents never ran: Slurm cancelled their jobs rather than leave them pending.
        Assert.All(dependents, d => Assert.Empty(new UnitRecord(new ExperimentStoreFolder(new Store.ExperimentStore(root)),
            StudyPlan.Expand(Study.Load(study), TicketLab.Cli.CliApp.Accepts).Unit(d)).Attempts));
    }

    [SlurmFact]
    public void A_group_of_units_runs_as_one_job__with_the_weights_of_local_workers()
    {
        string study = temp.Combine("tiny.toml");
        File.WriteAllText(study, StudyRunTests.TinyStudy.Replace("name = \"tiny\"", "name = \"tiny\"\nnetworks_per_process = 2"));
        string slurmRoot = temp.Combine("slurm-store"), localRoot = temp.Combine("local-store");
        var (code, _, error) = Cli("study", "run", study, "--root", slurmRoot, "--data-dir", data, "--executor", "slurm", "--cpus-per-task", "1", "--wait");
        Assert.True(code == 0, error);
        Assert.Contains(": lottery/replicate_1/level_1, lottery/replicate_2/level_1 (together), after ", error);
        var plan = StudyPlan.Expand(Study.Load(study), TicketLab.Cli.CliApp.Accepts);
        UnitAttempt Attempt(string unit) => new UnitRecord(new ExperimentStoreFolder(new Store.ExperimentStore(slurmRoot)), plan.Unit(unit)).Attempts.Single();
        Assert.Equal(Attempt("lottery/replicate_1/level_0").SlurmJob, Attempt("lottery/replicate_2/level_0").SlurmJob);
        Assert.NotEqual(Attempt("train/replicate_1").SlurmJob, Attempt("train/replicate_2").SlurmJob);

        var (local, _, localError) = Cli("study", "run", study, "--root", localRoot, "--data-dir", data, "--workers", "2");
        Assert.True(local == 0, localError);
        StudyRunTests.AssertSameResults(localRoot, slurmRoot);
    }

    /// <summary>The id of the queued job named <paramref name="name"/>, once it is queued.</summary>
    private static string WaitForJob(string name)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var line in SlurmExecutor.RunSlurm("squeue", ["--noheader", "--format=%i %j"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (line.Split(' ', 2) is [var id, var job] && job.Trim() == name) return id;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no job named {name} was queued within 60 s");
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
