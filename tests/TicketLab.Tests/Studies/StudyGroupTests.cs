using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Cli.Studies;
using TicketLab.Store;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Studies;

/// <summary>
/// A study's units of one level of several replicates train together, as one stacked model in one
/// process (issue 23): grouped by the study file, each unit recorded and each run written as if alone.
/// </summary>
public sealed class StudyGroupTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public StudyGroupTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static string Study(int levels, int replicates, string top = "") => $"""
        name = "grouped"
        {top}
        [flags]
        dataset-name = "mnist"
        model-name = "lenet_20"
        training-steps = "2ep"
        batch-size = 32

        [[experiment]]
        command = "lottery"
        levels = {levels}
        replicates = {replicates}
        branches = ["random_reinit"]
        """;

    private string Write(string name, string toml)
    {
        string path = temp.Combine(name);
        File.WriteAllText(path, toml);
        return path;
    }

    private static StudyPlan Plan(string study) => StudyPlan.Expand(TicketLab.Studies.Study.Load(study), CliApp.Accepts);

    private static UnitRecord Record(string study, string root, string unit) =>
        new(new ExperimentStoreFolder(new ExperimentStore(root)), Plan(study).Unit(unit));

    [Fact]
    public void Groups_are_the_same_level_or_branch_of_up_to_networks_per_process_replicates__in_replicate_order()
    {
        var groups = new UnitGroups(Plan(Write("g.toml", Study(levels: 1, replicates: 3, top: "networks_per_process = 2"))));
        var plan = Plan(temp.Combine("g.toml"));
        string Ids(string unit) => string.Join(" ", groups.Of(plan.Unit(unit)).Select(u => u.Id));
        Assert.Equal("lottery/replicate_1/level_0 lottery/replicate_2/level_0", Ids("lottery/replicate_2/level_0"));
        Assert.Equal("lottery/replicate_3/level_0", Ids("lottery/replicate_3/level_0"));
        Assert.Equal("lottery/replicate_1/level_1/random_reinit lottery/replicate_2/level_1/random_reinit", Ids("lottery/replicate_1/level_1/random_reinit"));
        var args = UnitGroups.CommandArgs(groups.Of(plan.Unit("lottery/replicate_1/level_1")));
        Assert.Equal(["--replicates", "1,2", "--levels", "1"], args.TakeLast(4));
        Assert.DoesNotContain("--replicate", args);

        // A model that does not stack, or networks_per_process = 1: every unit alone.
        var resnet = Plan(Write("r.toml", Study(1, 3, top: "networks_per_process = 2").Replace("lenet_20", "resnet_20")));
        Assert.All(resnet.Units, u => Assert.Single(new UnitGroups(resnet).Of(u)));
        var alone = Plan(Write("a.toml", Study(1, 3, top: "networks_per_process = 1")));
        Assert.All(alone.Units, u => Assert.Single(new UnitGroups(alone).Of(u)));

        // The default: alone on CPUs (a unit has one thread, where a stack does not pay), 8 on a GPU.
        Assert.Equal(1, Plan(Write("cpu.toml", Study(1, 3))).Study.NetworksPerProcess);
        Assert.Equal(8, Plan(Write("gpu.toml", Study(1, 3).Replace("batch-size = 32", "batch-size = 32\ndevice = \"cuda\""))).Study.NetworksPerProcess);
    }

    [Fact]
    public void A_study_trains_a_levels_replicates_together__records_each_unit__and_gives_the_same_weights_with_any_worker_count()
    {
        string study = Write("grouped.toml", Study(levels: 1, replicates: 3, top: "networks_per_process = 2"));
        string one = temp.Combine("one"), two = temp.Combine("two");
        var (code1, _, error1) = StudyRunTests.Cli("study", "run", study, "--root", one, "--data-dir", data, "--workers", "1");
        Assert.True(code1 == 0, error1);
        Assert.Contains("start   lottery/replicate_1/level_0, lottery/replicate_2/level_0 (together)", error1);
        var (code2, _, error2) = StudyRunTests.Cli("study", "run", study, "--root", two, "--data-dir", data, "--workers", "2");
        Assert.True(code2 == 0, error2);
        StudyRunTests.AssertSameResults(one, two);

        // One attempt a unit; the group's two units in one process at one moment, the third apart.
        var first = Record(study, one, "lottery/replicate_1/level_0").Attempts.Single();
        var second = Record(study, one, "lottery/replicate_2/level_0").Attempts.Single();
        var third = Record(study, one, "lottery/replicate_3/level_0").Attempts.Single();
        Assert.Equal((first.Pid, first.Started), (second.Pid, second.Started));
        Assert.NotEqual(first.Started, third.Started);
        Assert.Contains("trains together with lottery/replicate_1/level_0", File.ReadAllText(Record(study, one, "lottery/replicate_2/level_0").LogPath));

        // Each replicate's run records how it was trained: stacked with the other, or alone.
        JsonNode Provenance(int replicate) => JsonNode.Parse(File.ReadAllText(Directory.EnumerateFiles(one, "provenance.json", SearchOption.AllDirectories)
            .Single(f => f.Contains($"replicate_{replicate}{Path.DirectorySeparatorChar}level_0{Path.DirectorySeparatorChar}main", StringComparison.Ordinal))))!;
        Assert.Equal(2, (int)Provenance(1)["sessions"]![0]!["stacked"]!["networks"]!);
        Assert.Equal(1, (int)Provenance(2)["sessions"]![0]!["stacked"]!["index"]!);
        Assert.Null(Provenance(3)["sessions"]![0]!["stacked"]);
    }

    [Fact]
    public void When_a_groups_command_fails__each_unit_runs_alone_for_its_own_outcome()
    {
        string root = temp.Combine("store");
        // Level 0 of both replicates, then a byte of replicate 2's trained level-0 weights flips.
        string levelZero = Write("zero.toml", Study(levels: 0, replicates: 2, top: "networks_per_process = 2"));
        var (code0, _, error0) = StudyRunTests.Cli("study", "run", levelZero, "--root", root, "--data-dir", data);
        Assert.True(code0 == 0, error0);
        string weights = Directory.EnumerateFiles(root, "model_final.bin", SearchOption.AllDirectories)
            .Single(f => f.Contains($"replicate_2{Path.DirectorySeparatorChar}level_0", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(weights);
        bytes[^100] ^= 0x40;
        File.WriteAllBytes(weights, bytes);

        string study = Write("one.toml", Study(levels: 1, replicates: 2, top: "networks_per_process = 2"));
        var (code, _, error) = StudyRunTests.Cli("study", "run", study, "--root", root, "--data-dir", data);
        Assert.Equal(CommandErrors.UnitsFailed, code);
        Assert.Equal(UnitState.Done, Record(study, root, "lottery/replicate_1/level_1").State);
        var failed = Record(study, root, "lottery/replicate_2/level_1");
        Assert.Equal(UnitState.Failed, failed.State);
        Assert.Equal(CommandErrors.DataError, failed.Attempts[^1].ExitCode);
        Assert.Contains("differs from what the run wrote", File.ReadAllText(failed.LogPath));
        Assert.Contains("each of its units runs alone now", File.ReadAllText(Record(study, root, "lottery/replicate_1/level_1").LogPath));
    }

    [Fact]
    public void Replicates_given_as_a_list_run_exactly_those__and_a_bad_list_is_a_usage_error()
    {
        string root = temp.Combine("store");
        string[] recipe = ["--dataset-name", "mnist", "--model-name", "lenet_20", "--training-steps", "1ep", "--batch-size", "32", "--root", root, "--data-dir", data, "--quiet"];
        var (code, _, error) = StudyRunTests.Cli(["lottery", .. recipe, "--replicates", "2,3", "--levels", "0"]);
        Assert.True(code == 0, error);
        string run = Directory.EnumerateDirectories(root, "lottery_*").Single();
        Assert.Equal(["replicate_2", "replicate_3"], Directory.EnumerateDirectories(run).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        foreach (var (bad, message) in new[] { ("2,2", "replicate 2 is listed twice"), ("1,0", "must be at least 1, got 0"), ("1,x", "'x' is not a whole number") })
        {
            var (badCode, _, badError) = StudyRunTests.Cli(["lottery", .. recipe, "--replicates", bad, "--levels", "0"]);
            Assert.Equal(CommandErrors.UsageError, badCode);
            Assert.Contains($"--replicates: {message}", badError);
        }
    }

    [Theory]
    [InlineData("--workers", "0", "--workers: must be at least 1, got 0.")]
    [InlineData("--workers", "99999999999", "--workers: 99999999999 is too large (at most 2147483647).")]
    [InlineData("--threads", "0", "--threads: must be at least 1, got 0.")]
    [InlineData("--threads", "99999999999", "--threads: 99999999999 is too large (at most 2147483647).")]
    public void A_bad_count_for_study_run_is_one_usage_line_naming_the_flag_and_the_commands_help(string flag, string value, string message)
    {
        string study = Write("s.toml", Study(levels: 0, replicates: 1));
        string root = temp.Combine("store");
        var (code, _, error) = StudyRunTests.Cli("study", "run", study, "--root", root, "--data-dir", data, flag, value);
        Assert.Equal(CommandErrors.UsageError, code);
        Assert.Equal($"error: {message} See ticketlab study run --help.", error.Trim());
        Assert.False(Directory.Exists(root), "nothing is written for a refused command");
    }
}
