using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
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

    internal static (int Code, string Out, string Err) Cli(params string[] args) => TestCli.Run(args);

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
