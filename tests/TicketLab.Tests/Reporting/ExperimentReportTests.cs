using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TicketLab.Cli;
using TicketLab.Store;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

/// <summary>Reports of real (tiny) experiments, produced through the command line.</summary>
public sealed class ExperimentReportTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;

    public ExperimentReportTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        store = temp.Combine("store");
    }

    public void Dispose() => temp.Dispose();

    private string Run(params string[] args)
    {
        var (code, output, error) = TestCli.Run([.. args, "--root", store]);
        Assert.True(code == 0, $"ticketlab {string.Join(" ", args)} failed ({code}):\n{error}");
        return output;
    }

    private string[] Recipe(string steps = "2ep", string lr = "0.05") =>
        ["--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--lr", lr, "--training-steps", steps, "--data-dir", data, "--quiet"];

    /// <summary>A figure's CSV (no commas inside labels here): the header, then series, x and y of each row.</summary>
    private static (string[] Header, IReadOnlyList<(string Series, double? X, double Y)> Rows) ReadFigureCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        return (lines[0].Split(','), lines.Skip(1).Select(line => SplitCsv(line))
            .Select(c => (c[0], c[1].Length == 0 ? (double?)null : double.Parse(c[1], CultureInfo.InvariantCulture), double.Parse(c[2], CultureInfo.InvariantCulture))).ToArray());
    }

    private static IReadOnlyList<(string Series, double? X, double Y)> ReadCsv(string path) => ReadFigureCsv(path).Rows;

    /// <summary>One CSV line's cells, with RFC 4180 quotes.</summary>
    internal static string[] SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells.ToArray();
    }

    /// <summary>results.csv as rows of column name to cell.</summary>
    internal static IReadOnlyList<Dictionary<string, string>> ReadResults(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = SplitCsv(lines[0]);
        return lines.Skip(1).Select(l => SplitCsv(l).Select((cell, i) => (header[i], cell)).ToDictionary(p => p.Item1, p => p.cell)).ToArray();
    }

    /// <summary>No number written with float noise (a run of 0s or 9s beyond the 12th significant digit).</summary>
    internal static void AssertNoFloatNoise(string text) =>
        Assert.DoesNotMatch(@"\d\.\d*(0{8,}|9{8,})\d", text);

    private static void AssertLocalReferencesExist(string index)
    {
        string html = File.ReadAllText(index);
        var references = Regex.Matches(html, "(?:src|href)=\"([^\"#]+)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            Assert.DoesNotContain("://", reference);
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(index)!, Uri.UnescapeDataString(reference))), $"{reference} is missing");
        }
    }

    [Fact]
    public void Lottery_report_has_every_figure_its_data_and_a_page_that_loads_them()
    {
        var json = JsonNode.Parse(Run(["lottery", .. Recipe(), "--levels", "2", "--json"]))!;
        string runName = (string)json["lottery_run"]!;
        Run(["branch", "random_reinit", .. Recipe(), "--levels", "1-2"]);
        Run(["compare", .. Recipe(), "--levels", "1-2", "--points", "3"]);
        string output = Run("report", runName[..14], "--out", temp.Combine("report"));
        string index = temp.Combine("report", "index.html");
        Assert.Contains(index, output);

        foreach (var figure in new[] { "accuracy_vs_remaining", "accuracy_vs_step", "distance_vs_remaining", "start_distance_vs_remaining", "barrier_vs_remaining",
                     "angle_vs_remaining", "rise_vs_remaining" })
        {
            var png = File.ReadAllBytes(temp.Combine("report", "figures", figure + ".png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.True(png.Length > 5000, $"{figure}.png is only {png.Length} bytes");
            Assert.Contains("<svg", File.ReadAllText(temp.Combine("report", "figures", figure + ".svg")));
        }

        // The plotted numbers are the stored ones, as fractions in named columns.
        var (header, rows) = ReadFigureCsv(temp.Combine("report", "figures", "accuracy_vs_remaining.csv"));
        Assert.Equal(["series", "fraction_remaining", "final_test_accuracy", "final_test_accuracy_min", "final_test_accuracy_max", "replicates"], header);
        for (int level = 0; level <= 2; level++)
        {
            var summary = TicketLab.Training.TrainingSummary.Read(new RunFolder(Path.Combine(store, runName, "replicate_1", $"level_{level}", "main")))!;
            var mask = JsonNode.Parse(File.ReadAllText(Path.Combine(store, runName, "replicate_1", $"level_{level}", "main", "mask.json")))!;
            double fraction = (double)(long)mask["remaining"]! / (long)mask["total"]!;
            var point = rows.Single(r => r.Series == "ticket" && r.X == fraction);
            Assert.Equal(summary.FinalTestAccuracy, point.Y);
            // The same number in the lottery command's flat JSON rows.
            var row = json["rows"]!.AsArray().Single(r => (int)r!["level"]! == level && (string)r["series"]! == "ticket")!;
            Assert.Equal(fraction, (double)row["fraction_remaining"]!);
            Assert.Equal(summary.FinalTestAccuracy, (double)row["final_test_accuracy_mean"]!);
            Assert.Equal(1, (int)row["replicates"]!);
            Assert.Equal(0, (int)row["diverged"]!);
        }
        Assert.Equal(1.0, (double)json["rows"]![0]!["fraction_remaining"]!);
        Assert.Contains(rows, r => r.Series.StartsWith("random_reinit"));
        Assert.Contains(rows, r => r.Series == "dense (level 0)" && r.X is null);
        AssertNoFloatNoise(File.ReadAllText(temp.Combine("report", "figures", "accuracy_vs_remaining.csv")));

        // Every result of the run, one number a row: in the experiment folder (written by each command) and beside the report.
        var results = ReadResults(Path.Combine(store, runName, "results.csv"));
        Assert.Equal(File.ReadAllText(Path.Combine(store, runName, "results.csv")), File.ReadAllText(temp.Combine("report", "results.csv")));
        var level1 = results.Single(r => r["level"] == "1" && r["series"] == "ticket" && r["metric"] == "final_test_accuracy");
        Assert.Equal(runName, level1["experiment"]);
        Assert.Equal("lottery", level1["kind"]);
        Assert.Equal("1", level1["replicate"]);
        var summary1 = TicketLab.Training.TrainingSummary.Read(new RunFolder(Path.Combine(store, runName, "replicate_1", "level_1", "main")))!;
        Assert.Equal(summary1.FinalTestAccuracy, double.Parse(level1["value"], CultureInfo.InvariantCulture));
        Assert.Contains(results, r => r["series"] == "random_reinit" && r["level"] == "2" && r["metric"] == "best_test_accuracy");
        Assert.Contains(results, r => r["series"] == "T-P" && r["level"] == "1" && r["metric"] == "error_barrier");
        Assert.All(results.Where(r => r["metric"].Contains("accuracy", StringComparison.Ordinal) && !r["metric"].EndsWith("_step", StringComparison.Ordinal)),
            r => Assert.InRange(double.Parse(r["value"], CultureInfo.InvariantCulture), 0, 1));
        Assert.Contains("results.csv", File.ReadAllText(index));

        AssertLocalReferencesExist(index);
        var browser = HtmlReportBrowserTests.RunChromium(temp, "--virtual-time-budget=5000", "--dump-dom", new Uri(index).AbsoluteUri);
        Assert.Contains("data-images-loaded=\"7/7\"", browser.Stdout);
    }

    [Fact]
    public void Rewind_sweep_report_plots_the_stored_barriers_and_two_runs_overlay()
    {
        var sweep = JsonNode.Parse(Run(["rewind-sweep", .. Recipe("1ep"), "--steps", "0it,3it", "--points", "3", "--json"]))!;
        string sweepFile = Directory.GetFiles(store, "rewind_sweep_*.json").Single();
        Run("report", sweepFile, "--out", temp.Combine("sweep-report"));
        var (header, all) = ReadFigureCsv(temp.Combine("sweep-report", "figures", "barrier_vs_step.csv"));
        Assert.Equal(["series", "start_step", "error_barrier", "error_barrier_min", "error_barrier_max", "replicates"], header);
        var rows = all.Where(r => r.X is not null).ToArray(); // the last row is the stability threshold
        Assert.Equal([0.0, 3.0], rows.Select(r => r.X!.Value));
        Assert.Equal(sweep["rows"]!.AsArray().Select(r => TicketLab.Foundations.DataNumbers.Derived((double)r!["error_barrier"]!["mean"]!)), rows.Select(r => r.Y));
        Assert.Equal(0.02, all.Single(r => r.X is null).Y);
        AssertLocalReferencesExist(temp.Combine("sweep-report", "index.html"));
        // The sweep's results.csv lies beside its file, one row per start step, replicate and number.
        var results = ReadResults(Path.ChangeExtension(sweepFile, null) + "_results.csv");
        Assert.Equal(["0", "3"], results.Where(r => r["metric"] == "error_barrier").Select(r => r["start_step"]));

        var a = JsonNode.Parse(Run(["train", .. Recipe("1ep"), "--json"]))!;
        var b = JsonNode.Parse(Run(["train", .. Recipe("1ep", lr: "0.01"), "--json"]))!;
        Run("report", "--compare", (string)a["folder"]!, (string)b["folder"]!, "--out", temp.Combine("overlay"));
        var overlay = ReadCsv(temp.Combine("overlay", "figures", "test_accuracy_vs_step.csv"));
        // Each curve is labelled by the hyperparameter that differs, and one table lists the differences.
        Assert.Equal(["lr=0.05", "lr=0.01"], overlay.Select(r => r.Series).Distinct());
        string html = File.ReadAllText(temp.Combine("overlay", "index.html"));
        Assert.Matches("What differs.*<td>training.lr</td><td>0.05</td><td>0.01</td>", html.Replace("\n", ""));
        var labelled = ReadResults(temp.Combine("overlay", "results.csv"));
        Assert.Equal(["lr=0.05", "lr=0.01"], labelled.Select(r => r["label"]).Distinct());
    }

    [Fact]
    public void Unknown_experiments_get_a_clear_error()
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["report", "deadbeef", "--root", store], CliEnvironment.ForTests(new StringWriter(), stderr));
        Assert.Equal(2, code);
        Assert.Contains("ticketlab list", stderr.ToString());
    }
}
