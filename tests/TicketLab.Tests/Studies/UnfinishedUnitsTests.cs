using TicketLab.Store;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Studies;

/// <summary>What a study's pass ends with when units are left: each unit and why, and how the pass ended.</summary>
[Collection(Experiments.RegistryCollection.Name)] // studies name registered kinds
public sealed class UnfinishedUnitsTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly StudyPlan plan;
    private readonly ExperimentStore store;

    public UnfinishedUnitsTests()
    {
        string path = temp.Combine("study.toml");
        File.WriteAllText(path, "[[experiment]]\ncommand = \"lottery\"\nlevels = 2\nreplicates = 2\n[[experiment]]\ncommand = \"train\"\n");
        plan = StudyPlan.Expand(Study.Load(path));
        store = new ExperimentStore(temp.Combine("store"));
    }

    public void Dispose() => temp.Dispose();

    private void Ended(string unit, int? code, string? job = null)
    {
        var started = DateTimeOffset.UtcNow;
        new UnitRecord(new ExperimentStoreFolder(store), plan.Unit(unit)).Write(new UnitAttempt("host", 1, started, code is null ? null : started, code, job, 1));
    }

    private void AllDoneBut(params string[] units)
    {
        foreach (var unit in plan.Units.Where(u => !units.Contains(u.Id))) Ended(unit.Id, 0);
    }

    private Dictionary<string, string> Reasons(IReadOnlyDictionary<string, string>? jobOf = null) =>
        UnfinishedUnits.Of(StudyStatus.Read(plan, store), jobOf).ToDictionary(u => u.Id, u => u.Reason);

    [Fact]
    public void A_cancelled_unit_and_what_waits_on_it_are_named_with_why__and_the_pass_is_not_done()
    {
        AllDoneBut("lottery/replicate_1/level_1", "lottery/replicate_1/level_2");
        Ended("lottery/replicate_1/level_1", 143, "17");
        var reasons = Reasons();
        Assert.Equal(2, reasons.Count);
        Assert.StartsWith("stopped with exit code 143 (cancelled, preempted or interrupted; Slurm job 17); resumes from its checkpoint", reasons["lottery/replicate_1/level_1"]);
        Assert.Equal("waiting on lottery/replicate_1/level_1, which was stopped before it finished", reasons["lottery/replicate_1/level_2"]);
        Assert.Equal(StudyEnding.NotDone, UnfinishedUnits.Ending(StudyStatus.Read(plan, store)));
    }

    [Fact]
    public void A_unit_two_links_down_a_held_up_chain_names_the_unit_that_holds_it_up()
    {
        AllDoneBut("lottery/replicate_2/level_0", "lottery/replicate_2/level_1", "lottery/replicate_2/level_2");
        Assert.Equal("waiting on lottery/replicate_2/level_0, which never ran", Reasons()["lottery/replicate_2/level_2"]);
        Assert.Equal(StudyEnding.NotDone, UnfinishedUnits.Ending(StudyStatus.Read(plan, store)));
    }

    [Fact]
    public void A_unit_whose_job_left_the_queue_unrun_names_the_job__and_one_killed_mid_run_says_so()
    {
        AllDoneBut("train/replicate_1", "lottery/replicate_2/level_2");
        Ended("lottery/replicate_2/level_2", null, "21");
        var reasons = Reasons(new Dictionary<string, string> { ["train/replicate_1"] = "9" });
        Assert.StartsWith("never ran (Slurm job 9 left the queue without running it", reasons["train/replicate_1"]);
        Assert.StartsWith("stopped without recording its end (killed; Slurm job 21)", reasons["lottery/replicate_2/level_2"]);
        Assert.Equal("never ran", Reasons()["train/replicate_1"]);
    }

    [Fact]
    public void A_failure_outranks_units_not_run__and_a_divergence_alone_settles_the_study()
    {
        AllDoneBut("lottery/replicate_1/level_1", "lottery/replicate_1/level_2", "train/replicate_1");
        Ended("lottery/replicate_1/level_1", 4);
        // Diverged, and what waits on it never runs: a final result, not work left.
        Assert.Equal(StudyEnding.NotDone, UnfinishedUnits.Ending(StudyStatus.Read(plan, store)));
        Ended("train/replicate_1", 0);
        Assert.Equal(StudyEnding.Diverged, UnfinishedUnits.Ending(StudyStatus.Read(plan, store)));
        Assert.Equal("waiting on lottery/replicate_1/level_1, which diverged", Reasons()["lottery/replicate_1/level_2"]);

        Ended("lottery/replicate_2/level_2", 3);
        Assert.Equal(StudyEnding.Failed, UnfinishedUnits.Ending(StudyStatus.Read(plan, store)));
        Assert.StartsWith("failed with exit code 3; log: ", Reasons()["lottery/replicate_2/level_2"]);
    }
}
