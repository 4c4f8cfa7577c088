using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TicketLab.Cli;
using TicketLab.Tests.Support.TensorBoard;
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
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run([.. args, "--root", store], CliEnvironment.ForTests(stdout, stderr));
        Assert.True(code == 0, $"ticketlab {string.Join(" ", args)} failed ({code}):\n{stderr}");
        return stdout.ToString();
    }

    private string[] Recipe(string steps = "2ep", string lr = "0.05") =>
        ["--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--lr", lr, "--training-steps", steps, "--data-dir", data, "--quiet"];

    private static IReadOnlyList<(string Series, double? X, double Y)> ReadCsv(string path) =>
        File.ReadAllLines(path).Skip(1).Select(line => line.Split(','))
            .Select(c => (c[0], c[1].Length == 0 ? (double?)null : double.Parse(c[1], CultureInfo.InvariantCulture), double.Parse(c[2], CultureInfo.InvariantCulture))).ToArray();

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

        foreach (var figure in new[] { "accuracy_vs_remaining", "accuracy_vs_step", "distance_vs_remaining", "start_distance_vs_remaining", "barrier_vs_remaining" })
        {
            var png = File.ReadAllBytes(temp.Combine("report", "figures", figure + ".png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.True(png.Length > 5000, $"{figure}.png is only {png.Length} bytes");
            Assert.Contains("<svg", File.ReadAllText(temp.Combine("report", "figures", figure + ".svg")));
        }

        // The plotted numbers are the stored ones.
        var rows = ReadCsv(temp.Combine("report", "figures", "accuracy_vs_remaining.csv"));
        for (int level = 0; level <= 2; level++)
        {
            var summary = TicketLab.Training.TrainingSummary.Read(new RunFolder(Path.Combine(store, runName, "replicate_1", $"level_{level}", "main")))!;
            var mask = JsonNode.Parse(File.ReadAllText(Path.Combine(store, runName, "replicate_1", $"level_{level}", "main", "mask.json")))!;
            var point = rows.Single(r => r.Series == "ticket" && Math.Abs(r.X!.Value - 100 * (1 - (double)mask["sparsity"]!)) < 1e-9);
            Assert.Equal(100 * summary.FinalTestAccuracy, point.Y, 12);
        }
        Assert.Contains(rows, r => r.Series.StartsWith("random_reinit"));
        Assert.Contains(rows, r => r.Series == "dense (level 0)" && r.X is null);

        AssertLocalReferencesExist(index);
        var browser = HtmlReportBrowserTests.RunChromium(temp, "--virtual-time-budget=5000", "--dump-dom", new Uri(index).AbsoluteUri);
        Assert.Contains("data-images-loaded=\"5/5\"", browser.Stdout);
    }

    [Fact]
    public void Rewind_sweep_report_plots_the_stored_barriers_and_two_runs_overlay()
    {
        var sweep = JsonNode.Parse(Run(["rewind-sweep", .. Recipe("1ep"), "--steps", "0it,3it", "--points", "3", "--json"]))!;
        string sweepFile = Directory.GetFiles(store, "rewind_sweep_*.json").Single();
        Run("report", sweepFile, "--out", temp.Combine("sweep-report"));
        var rows = ReadCsv(temp.Combine("sweep-report", "figures", "barrier_vs_step.csv"));
        Assert.Equal([0.0, 3.0], rows.Select(r => r.X!.Value));
        Assert.Equal(sweep["rows"]!.AsArray().Select(r => 100 * (double)r!["error_barrier"]!["mean"]!), rows.Select(r => r.Y));
        AssertLocalReferencesExist(temp.Combine("sweep-report", "index.html"));

        var a = JsonNode.Parse(Run(["train", .. Recipe("1ep"), "--json"]))!;
        var b = JsonNode.Parse(Run(["train", .. Recipe("1ep", lr: "0.01"), "--json"]))!;
        Run("report", "--compare", (string)a["folder"]!, (string)b["folder"]!, "--out", temp.Combine("overlay"));
        var overlay = ReadCsv(temp.Combine("overlay", "figures", "test_accuracy_vs_step.csv"));
        Assert.Equal(2, overlay.Select(r => r.Series).Distinct().Count());
        Assert.Contains(overlay, r => r.Series.Contains("lr 0.01"));
    }

    [Fact]
    public void Unknown_experiments_get_a_clear_error()
    {
        var stderr = new StringWriter();
        int code = CliApp.Run(["report", "deadbeef", "--root", store], CliEnvironment.ForTests(new StringWriter(), stderr));
        Assert.Equal(2, code);
        Assert.Contains("ticketlab list", stderr.ToString());
    }

    [Fact]
    public void Tensorboard_logs_follow_the_run()
    {
        var summary = JsonNode.Parse(Run(["train", .. Recipe("2ep"), "--tensorboard", temp.Combine("tb"), "--json"]))!;
        string events = Directory.GetFiles(temp.Combine("tb"), "events.out.tfevents.*", SearchOption.AllDirectories).Single();
        var scalars = TensorBoardEventReader.ReadScalars(events);
        var metrics = MetricsLog.Read(Path.Combine((string)summary["folder"]!, "metrics.csv"));
        var accuracies = metrics.Where(r => r.Name == "test_accuracy").ToArray();
        Assert.Equal(accuracies.Select(r => (r.Step, (float)r.Value)), scalars.Where(s => s.Tag == "test/accuracy").Select(s => (s.Step, s.Value)));
        Assert.Contains(scalars, s => s.Tag == "train/loss");
        Assert.Contains(scalars, s => s.Tag == "train/learning_rate" && Math.Abs(s.Value - 0.05f) < 1e-7);
        Assert.Equal(["train/learning_rate"], scalars.Select(s => s.Tag).Where(t => t.Contains("learning")).Distinct()); // one tag
        Assert.Contains(scalars, s => s.Tag == "sparsity" && s.Value == 0);
    }
}
