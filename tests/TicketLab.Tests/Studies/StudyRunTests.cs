using System.Diagnostics;
using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Cli.Studies;
using TicketLab.Store;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Studies;

/// <summary>Whole studies run by worker processes (the CLI's own executable), against a small learnable dataset.</summary>
public sealed class StudyRunTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public StudyRunTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    public const string SmallStudy = """
        name = "small"
        [flags]
        dataset-name = "mnist"
        model-name = "lenet_20"
        training-steps = "2ep"
        batch-size = 32
        points = 3

        [[experiment]]
        command = "lottery"
        levels = 2
        branches = ["random_reinit"]
        instability = [1]
        compare = true
        analyses = ["layer_density"]

        [[experiment]]
        command = "train"
        replicates = 2
        """;

    /// <summary>Two independent lottery chains and two trainings: enough for two workers to share.</summary>
    public const string TinyStudy = """
        name = "tiny"
        [flags]
        dataset-name = "mnist"
        model-name = "lenet_20"
        training-steps = "2ep"
        batch-size = 32

        [[experiment]]
        command = "lottery"
        levels = 1
        replicates = 2

        [[experiment]]
        command = "train"
        replicates = 2
        """;

    /// <summary>A long training (killed or stopped mid-run by the tests) and a short one after it.</summary>
    private const string LongThenShortStudy = """
        name = "long-short"
        [flags]
        dataset-name = "mnist"
        model-name = "lenet_20"
        batch-size = 8

        [[experiment]]
        command = "train"
        flags = { training-steps = "300ep" }

        [[experiment]]
        command = "train"
        flags = { training-steps = "1ep", batch-size = 32 }
        """;

    internal static (int Code, string Out, string Err) Cli(params string[] args) => TestCli.Run(args);

    private string WriteStudy(string name, string toml)
    {
        string path = temp.Combine(name);
        File.WriteAllText(path, toml);
        return path;
    }

    private static UnitRecord Record(string study, string root, string unit) =>
        new(new ExperimentStoreFolder(new ExperimentStore(root)), StudyPlan.Expand(Study.Load(study), CliApp.Accepts).Unit(unit));

    /// <summary>The attempt a worker has open on the unit (it started, has not ended), once one has.</summary>
    private static UnitAttempt WaitForAttempt(string study, string root, string unit, Task<(int, string, string)> run)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120) && !run.IsCompleted)
        {
            if (Directory.Exists(root) && Record(study, root, unit).Attempts.LastOrDefault() is { Ended: null } open) return open;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{unit} did not start (the run {(run.IsCompleted ? $"ended: {run.Result.Item3}" : "still goes")})");
    }

    internal static JsonObject Status(string study, string root)
    {
        var (code, output, error) = Cli("study", "status", study, "--root", root, "--json");
        Assert.True(code == 0, error);
        return JsonNode.Parse(output)!.AsObject();
    }

    /// <summary>Every result file of a store, by path relative to its root, with the root's own path taken out of the contents.</summary>
    internal static SortedDictionary<string, string> Results(string root)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file);
            string name = Path.GetFileName(file);
            if (relative.StartsWith("studies", StringComparison.Ordinal)) continue; // records of who ran what, when
            bool result = name.EndsWith(".bin", StringComparison.Ordinal) || name == "metrics.csv" || name.StartsWith("interpolation_", StringComparison.Ordinal)
                || (name.StartsWith("level_", StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal)) || name == "mask.json";
            if (!result) continue;
            files[relative] = name.EndsWith(".bin", StringComparison.Ordinal)
                ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)))
                : File.ReadAllText(file).Replace(root, "<root>");
        }
        return files;
    }

    /// <summary>The two stores hold the same result files with the same contents; the message lists the ones that differ.</summary>
    internal static void AssertSameResults(string expectedRoot, string actualRoot)
    {
        var expected = Results(expectedRoot);
        var actual = Results(actualRoot);
        var differing = expected.Keys.Union(actual.Keys)
            .Where(k => !expected.TryGetValue(k, out var e) || !actual.TryGetValue(k, out var a) || e != a).ToArray();
        Assert.True(expected.Count > 0, $"no results in {expectedRoot}");
        Assert.True(differing.Length == 0, $"{differing.Length} of {expected.Count} result files differ: {string.Join(", ", differing.Take(10))}");
    }

    [Fact]
    public void Local_workers_run_every_unit_once__a_second_run_skips_them__and_the_report_labels_by_differences()
    {
        string study = temp.Combine("small.toml");
        File.WriteAllText(study, SmallStudy);
        string root = temp.Combine("store");

        var (code, _, error) = Cli("study", "run", study, "--root", root, "--data-dir", data, "--workers", "2");
        Assert.True(code == 0, error);
        var status = Status(study, root);
        Assert.Equal(13, (int)status["total"]!);
        Assert.Equal(13, (int)status["done"]!);
        Assert.All(status["units"]!.AsArray(), u => Assert.Equal(1, (int)u!["attempts"]!));
        Assert.Contains("done    lottery/replicate_1/level_2", error);

        var before = Results(root);
        var (again, _, againError) = Cli("study", "run", study, "--root", root, "--data-dir", data, "--workers", "2");
        Assert.True(again == 0, againError);
        Assert.DoesNotContain("start ", againError);
        Assert.All(Status(study, root)["units"]!.AsArray(), u => Assert.Equal(1, (int)u!["attempts"]!));
        Assert.Equal(before, Results(root));

        var (reportCode, reportOut, reportError) = Cli("study", "report", study, "--root", root);
        Assert.True(reportCode == 0, reportError);
        string index = reportOut.Trim().Split(": ", 2)[1];
        string html = File.ReadAllText(index);
        Assert.Contains("Study small", html);
        Assert.Contains("13 of 13 units done", html);
        Assert.Contains("Layer density: weights remaining per prunable tensor", html);
        Assert.Contains("Lottery run", html);
        Assert.Contains("Instability analysis level 1", html);
        // The answers lead: the first figure comes before the progress, whose unit table is folded.
        Assert.True(html.IndexOf("<figure", StringComparison.Ordinal) is > 0 and var firstFigure
            && firstFigure < html.IndexOf("<h2>Progress</h2>", StringComparison.Ordinal), "a figure precedes the progress section");
        Assert.Contains("<details><summary>Units (13 rows)</summary>", html);
        // Series are labelled by what they are: the branch's name, never its folder's hash.
        string csv = File.ReadAllText(Path.Combine(Path.GetDirectoryName(index)!, "figures", "accuracy_vs_remaining.csv"));
        Assert.Contains("random_reinit", csv);
        Assert.DoesNotMatch("random_reinit_[0-9a-f]{16}", csv);

        // Beside the report, every result of the study in one long CSV, each row labelled by its experiment's label.
        var results = TicketLab.Tests.Reporting.ExperimentReportTests.ReadResults(Path.Combine(Path.GetDirectoryName(index)!, "results.csv"));
        Assert.Equal(["label", "experiment", "kind", "replicate", "level", "fraction_remaining", "series", "start_step", "metric", "value"],
            File.ReadLines(Path.Combine(Path.GetDirectoryName(index)!, "results.csv")).First().Split(','));
        Assert.Equal(["instability", "lottery", "train"], results.Select(r => r["kind"]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(["1", "2"], results.Where(r => r["kind"] == "train" && r["metric"] == "final_test_accuracy").Select(r => r["replicate"]));
        Assert.Contains(results, r => r["kind"] == "lottery" && r["series"] == "random_reinit" && r["level"] == "2" && r["metric"] == "final_test_accuracy");
        Assert.Contains(results, r => r["kind"] == "instability" && r["level"] == "1" && r["metric"] == "error_barrier");
        Assert.All(results, r => Assert.DoesNotMatch("[0-9a-f]{16}", r["label"]));
    }

    [Fact]
    public void A_unit_that_fails_stops_only_what_needs_it__and_the_study_ends_with_exit_5()
    {
        string study = temp.Combine("failing.toml");
        // The lottery's level 1 cannot start: the rewind step is past the end of training. The train units are unaffected.
        File.WriteAllText(study, SmallStudy.Replace("compare = true", "compare = true\nflags = { rewind-step = \"50ep\" }"));
        string root = temp.Combine("store");
        var (code, _, error) = Cli("study", "run", study, "--root", root, "--data-dir", data, "--workers", "2");
        Assert.Equal(CommandErrors.UnitsFailed, code);
        Assert.Contains("error: 1 unit(s) failed", error);
        var units = Status(study, root)["units"]!.AsArray().ToDictionary(u => (string)u!["unit"]!, u => u!.AsObject());
        Assert.Equal("failed", (string)units["lottery/replicate_1/level_0"]!["state"]!);
        Assert.StartsWith("blocked by lottery/replicate_1/level_0", (string)units["lottery/replicate_1/level_1"]!["detail"]!);
        Assert.Equal("done", (string)units["train/replicate_2"]!["state"]!);
        string log = File.ReadAllText(Path.Combine((string)units["lottery/replicate_1/level_0"]!["record"]!, "log.txt"));
        Assert.Contains("--rewind-step: 50ep is at or past the end of training", log);
        // The pass names each unit left and why.
        Assert.Contains("  lottery/replicate_1/level_0: failed with exit code 2; log: ", error);
        Assert.Contains("  lottery/replicate_1/level_1: waiting on lottery/replicate_1/level_0, which failed", error);
    }

    [Fact]
    public void One_worker_or_two_give_the_same_weights__every_unit_running_with_the_studys_one_thread()
    {
        string study = WriteStudy("tiny.toml", TinyStudy);
        string one = temp.Combine("one-worker"), two = temp.Combine("two-workers");
        var (code1, _, error1) = Cli("study", "run", study, "--root", one, "--data-dir", data, "--workers", "1");
        Assert.True(code1 == 0, error1);
        var (code2, _, error2) = Cli("study", "run", study, "--root", two, "--data-dir", data, "--workers", "2");
        Assert.True(code2 == 0, error2);
        Assert.Contains("6 units, 1 thread(s) each", error2);
        AssertSameResults(one, two);
        foreach (var root in new[] { one, two })
            foreach (var unit in StudyPlan.Expand(Study.Load(study), CliApp.Accepts).Units)
                Assert.Equal(1, Record(study, root, unit.Id).Attempts.Single().Threads);
        // Two workers took the six units between them: no process per unit.
        var pids = StudyPlan.Expand(Study.Load(study), CliApp.Accepts).Units.Select(u => Record(study, two, u.Id).Attempts.Single().Pid).Distinct().ToArray();
        Assert.Equal(2, pids.Length);
    }

    [Fact]
    public void A_unit_does_not_resume_or_build_on_results_computed_with_another_thread_count()
    {
        string study = WriteStudy("tiny.toml", TinyStudy);
        string root = temp.Combine("store");
        var started = DateTimeOffset.UtcNow;
        // Stopped at 2 threads (a study run with --threads 2 interrupted): the study's 1 would mix counts in its weights.
        Record(study, root, "train/replicate_1").Write(new UnitAttempt("host", 1, started, started, 143, null, 2));
        var (code, _, error) = Cli("study", "unit", study, "--unit", "train/replicate_1", "--root", root, "--data-dir", data);
        Assert.Equal(CommandErrors.UsageError, code);
        Assert.Contains("error: train/replicate_1 started with 2 thread(s) and would resume with 1; its weights would mix both counts. Set the study's threads = 2", error);
        Assert.Equal(UnitState.Failed, Record(study, root, "train/replicate_1").State);

        // A level computed at 2 threads: the next level, which trains from it, is refused at 1.
        Record(study, root, "lottery/replicate_1/level_0").Write(new UnitAttempt("host", 1, started, started, 0, null, 2));
        var (next, _, nextError) = Cli("study", "unit", study, "--unit", "lottery/replicate_1/level_1", "--root", root, "--data-dir", data);
        Assert.Equal(CommandErrors.UsageError, next);
        Assert.Contains("error: lottery/replicate_1/level_1 builds on lottery/replicate_1/level_0, computed with 2 thread(s), and would run with 1", nextError);
        // The refusal computed nothing, so it fixes no thread count of its own.
        Assert.Null(Record(study, root, "lottery/replicate_1/level_1").StartedWithThreads);
    }

    [Fact]
    public void A_worker_takes_unit_after_unit__and_answers_a_failing_one_with_its_code_without_stopping()
    {
        string study = WriteStudy("tiny.toml", TinyStudy);
        string root = temp.Combine("store");
        var command = UnitWorker.CommandLine(study, new UnitSettings(root, data, Download: false, Threads: 1));
        var start = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1)) start.ArgumentList.Add(arg);
        using var worker = Process.Start(start)!;
        var stderr = worker.StandardError.ReadToEndAsync();
        string Ask(string unit)
        {
            worker.StandardInput.WriteLine(unit);
            worker.StandardInput.Flush();
            return worker.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the worker ended: {stderr.Result}");
        }
        Assert.Equal("end\ttrain/replicate_9\t2", Ask("train/replicate_9"));
        Assert.Equal("end\tlottery/replicate_1/level_1\t3", Ask("lottery/replicate_1/level_1")); // its level 0 has not run
        Assert.Equal("end\ttrain/replicate_1\t0", Ask("train/replicate_1"));
        Assert.Equal("end\ttrain/replicate_2\t0", Ask("train/replicate_2"));
        worker.StandardInput.Close();
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, worker.ExitCode);

        var first = Record(study, root, "train/replicate_1");
        var second = Record(study, root, "train/replicate_2");
        Assert.Equal(worker.Id, first.Attempts.Single().Pid);
        Assert.Equal(worker.Id, second.Attempts.Single().Pid);
        // Each unit's output is in its own log, none in the other's.
        Assert.Contains("train/replicate_1: ticketlab train", File.ReadAllText(first.LogPath));
        Assert.DoesNotContain("train/replicate_2", File.ReadAllText(first.LogPath));
        Assert.Contains("train/replicate_2: ticketlab train", File.ReadAllText(second.LogPath));
        Assert.Contains("needs lottery/replicate_1/level_0, which is waiting", File.ReadAllText(Record(study, root, "lottery/replicate_1/level_1").LogPath));
    }

    [Fact]
    public async Task A_worker_killed_mid_unit_fails_only_that_unit__and_a_new_worker_runs_the_rest()
    {
        string study = WriteStudy("long-short.toml", LongThenShortStudy);
        string root = temp.Combine("store");
        var run = Task.Run(() => Cli("study", "run", study, "--root", root, "--data-dir", data, "--workers", "1"));
        var attempt = WaitForAttempt(study, root, "train#1/replicate_1", run);
        Process.GetProcessById(attempt.Pid).Kill(); // SIGKILL: no checkpoint, no answer
        var (code, _, error) = await run;

        Assert.Equal(CommandErrors.UnitsFailed, code);
        var killed = Record(study, root, "train#1/replicate_1");
        Assert.Equal(UnitState.Failed, killed.State);
        Assert.Equal(137, killed.Attempts.Single().ExitCode);
        Assert.Contains($"its worker (pid {attempt.Pid}) ended with exit code 137 while running it", File.ReadAllText(killed.LogPath));
        Assert.Contains("train#1/replicate_1: failed (exit code 137, its worker died", error);
        var rest = Record(study, root, "train#2/replicate_1");
        Assert.Equal(UnitState.Done, rest.State);
        Assert.NotEqual(attempt.Pid, rest.Attempts.Single().Pid);
    }

    [Fact]
    public async Task A_stopped_study_stops_its_running_unit_with_a_checkpoint__and_starts_no_other()
    {
        string study = WriteStudy("long-short.toml", LongThenShortStudy);
        string root = temp.Combine("store");
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var run = Task.Run(() => (CliApp.Run(["study", "run", study, "--root", root, "--data-dir", data, "--workers", "1"], CliEnvironment.ForTests(stdout, stderr, stop.Token)), "", ""));
        WaitForAttempt(study, root, "train#1/replicate_1", run);
        var clock = Stopwatch.StartNew();
        // Once it has trained a while (metrics written), as a Ctrl-C would find it.
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !Directory.EnumerateFiles(root, "metrics.csv", SearchOption.AllDirectories).Any(f => File.ReadAllLines(f).Length > 3))
            Thread.Sleep(100);
        stop.Cancel();
        var (code, _, _) = await run;

        Assert.Equal(CommandErrors.Interrupted, code);
        var stopped = Record(study, root, "train#1/replicate_1");
        Assert.Equal(UnitState.Waiting, stopped.State);
        Assert.Equal(CommandErrors.Terminated, stopped.Attempts.Single().ExitCode); // the worker was sent SIGTERM
        Assert.Contains("train#1/replicate_1: stopped (resumes on the next run)", stderr.ToString());
        Assert.NotEmpty(Directory.EnumerateFiles(root, "checkpoint.bin", SearchOption.AllDirectories));
        Assert.Equal(UnitState.Waiting, Record(study, root, "train#2/replicate_1").State); // not started after the stop
        Assert.Empty(Record(study, root, "train#2/replicate_1").Attempts);
    }

    [Fact]
    public void A_unit_run_alone_before_what_it_needs_is_refused_with_a_clear_error()
    {
        string study = temp.Combine("small.toml");
        File.WriteAllText(study, SmallStudy);
        var (code, _, error) = Cli("study", "unit", study, "--unit", "lottery/replicate_1/level_1", "--root", temp.Combine("store"), "--data-dir", data);
        Assert.Equal(CommandErrors.DataError, code);
        Assert.Contains("error: lottery/replicate_1/level_1 needs lottery/replicate_1/level_0, which is waiting", error);
        var (unknown, _, unknownError) = Cli("study", "unit", study, "--unit", "lottery/replicate_9/level_1", "--root", temp.Combine("store"));
        Assert.Equal(CommandErrors.UsageError, unknown);
        Assert.Contains("the study has no unit 'lottery/replicate_9/level_1'", unknownError);
    }
}
