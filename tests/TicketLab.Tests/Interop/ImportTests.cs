using System.Text.Json.Nodes;
using TicketLab.Cli.Commands;
using TicketLab.Hyperparameters;
using TicketLab.Interop;
using TicketLab.Lottery;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Tests.Support;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Tests.Interop;

/// <summary>
/// <c>ticketlab import openlth</c> on a lottery run in OpenLTH's layout and formats, written with python3-torch by
/// tests/python/write_openlth_run.py (LeNet 32-16 on <see cref="LearnableData"/>, levels 0-2); then TicketLab's
/// analyses run on it, named by the flags the import prints.
/// </summary>
public sealed class ImportTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;
    private readonly string openLthRun;

    public ImportTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        store = temp.Combine("store");
        var (code, output, error) = Python.Run("write_openlth_run.py", temp.Combine("openlth"), data, "2", "2");
        Assert.True(code == 0, error);
        openLthRun = output.Trim();
    }

    public void Dispose() => temp.Dispose();

    private string[] Settings() => ["--root", store, "--data-dir", data, "--threads", "1"];

    [Fact]
    public void An_imported_OpenLth_run_is_a_lottery_run_that_report_instability_and_compare_take()
    {
        var (code, output, error) = TestCli.Run(["import", "openlth", openLthRun, .. Settings()]);
        Assert.True(code == 0, error + output);
        string flagsLine = output.Split('\n').Single(l => l.StartsWith("These flags name it: ", StringComparison.Ordinal));
        string[] flags = flagsLine["These flags name it: ".Length..].Trim().Split(' ');
        Assert.Equal(["--dataset-name", "mnist", "--batch-size", "32", "--model-name", "lenet_32_16", "--lr", "0.05", "--training-steps", "2ep",
            "--data-order-seed", "7", "--pruning-count-rule", "openlth"], flags);

        string run = Path.GetFileName(Directory.GetDirectories(store, "lottery_*").Single());
        var layout = new LotteryLayout(Path.Combine(store, run, "replicate_1"));
        Assert.Equal([0, 1, 2], layout.Levels());
        Assert.True(File.Exists(Path.Combine(layout.Path, "lottery.json")) && File.Exists(Path.Combine(layout.Path, "import.json")));
        // list marks the imported run, and each of its levels.
        var listed = JsonNode.Parse(TestCli.Run("list", "--root", store, "--json").Out)!.AsArray().Where(r => (string)r!["kind"]! == "lottery").ToArray();
        Assert.Equal([null, 0, 1, 2], listed.Select(r => (int?)r!["level"]));
        Assert.All(listed, r => Assert.True((bool)r!["imported"]!));
        var (_, test) = new DataSource(data).Get("mnist", null, CPU);
        for (int level = 0; level <= 2; level++)
        {
            var folder = layout.Main(level);
            string openLthLevel = Path.Combine(openLthRun, "replicate_1", $"level_{level}", "main");
            var summary = TrainingSummary.Read(folder)!;
            // The summary is OpenLTH's logger's: its last test accuracy, at the end of training (2 epochs of 8 iterations).
            var logged = File.ReadAllLines(Path.Combine(openLthLevel, "logger")).Select(l => l.Split(',')).Last(p => p[0] == "test_accuracy");
            Assert.Equal(16, summary.Iterations);
            Assert.Equal(double.Parse(logged[2], System.Globalization.CultureInfo.InvariantCulture), summary.FinalTestAccuracy);
            Assert.True(File.Exists(folder.ModelPath(new TicketLab.Foundations.Step(0, 8))) && File.Exists(folder.MetricsPath) && File.Exists(folder.HparamsPath));

            using var mask = Mask.Load(layout.MaskPath(level));
            Assert.Equal(Math.Pow(0.8, level), mask.Density, 2);
            // OpenLTH saved the final weights one SGD step after masking them; the import zeroes the pruned ones,
            // and TicketLab then measures the accuracy OpenLTH logged (its forward pass masks first).
            var original = PyTorchFile.Load(Path.Combine(openLthLevel, "model_ep2_it0.pth"));
            var imported = TicketLab.Foundations.TensorFile.Load(folder.FinalModelPath);
            var pruned = mask["fc_layers.0.weight"].eq(0);
            if (level > 0) Assert.True(original["fc_layers.0.weight"].masked_select(pruned).abs().sum().item<float>() > 0);
            Assert.Equal(0f, imported["fc_layers.0.weight"].masked_select(pruned).abs().sum().item<float>());
            Assert.True(original["fc_layers.0.weight"].masked_select(pruned.logical_not()).eq(imported["fc_layers.0.weight"].masked_select(pruned.logical_not())).all().item<bool>());
            using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_32_16" }, InputSpec.Of(test), 1);
            ModelState.Load(model, folder.FinalModelPath);
            Assert.Equal(summary.FinalTestAccuracy, Evaluator.Evaluate(model, test).Accuracy);
        }

        // results.csv, as every command writes it: one row per number, the final test accuracy of each level among them.
        string resultsCsv = Path.Combine(store, run, "results.csv");
        Assert.Contains($"Results (one number a row): {resultsCsv}", output);
        var rows = File.ReadAllLines(resultsCsv).Select(l => l.Split(',')).ToArray();
        Assert.Equal(TicketLab.Experiments.ExperimentResults.Header, rows[0]);
        var accuracies = rows.Skip(1).Where(r => r[7] == "final_test_accuracy").ToArray();
        Assert.Equal(["0", "1", "2"], accuracies.Select(r => r[3]));
        Assert.All(accuracies, r => Assert.Equal((run, "lottery", "1", "ticket"), (r[0], r[1], r[2], r[5])));
        Assert.Equal(TrainingSummary.Read(layout.Main(2))!.FinalTestAccuracy, double.Parse(accuracies[2][8], System.Globalization.CultureInfo.InvariantCulture));

        // The commands it prints go on from the run, run as printed: they carry the --root and --data-dir the import was
        // given (the test's own folders, where no command looks unless told).
        string[][] printed = output.Split('\n').SkipWhile(l => l != "Continue it with, for instance:").Skip(1)
            .TakeWhile(l => l.StartsWith("  ticketlab ", StringComparison.Ordinal)).Select(ShellWords).ToArray();
        Assert.Equal([["ticketlab", "report", run, "--root", store],
            ["ticketlab", "instability", "--level", "1", .. flags, "--root", store, "--data-dir", data],
            ["ticketlab", "lottery", "--levels", "3", .. flags, "--root", store, "--data-dir", data]], printed);
        var ran = printed.Select(command => TestCli.Run(command[1..])).ToArray();
        foreach (var (commandCode, commandOut, commandError) in ran) Assert.True(commandCode == 0, commandError + commandOut);
        Assert.True(File.Exists(Path.Combine(store, run, "report", "index.html")), ran[0].Out);
        Assert.Single(Directory.GetFiles(Directory.GetDirectories(store, "instability_*").Single(), "interpolation_*.json", SearchOption.AllDirectories));
        // TicketLab continues the imported run: levels 0-2 are found finished, level 3 is pruned with OpenLTH's rule and trained.
        Assert.Equal([0, 1, 2, 3], layout.Levels());
        Assert.Contains("level 2: 64.0% of prunable weights remain, test accuracy", ran[2].Out + ran[2].Err);

        string[] analysis = [.. flags, .. Settings(), "--quiet", "--points", "3"];
        var (compare, compareOut, compareError) = TestCli.Run(["compare", "--levels", "1", "--finetune-steps", "1ep", .. analysis]);
        Assert.True(compare == 0, compareError);
        Assert.Contains("Same basin", compareOut);

        // Importing again finds it imported.
        var (again, againOut, againError) = TestCli.Run(["import", "openlth", openLthRun, .. Settings()]);
        Assert.True(again == 0, againError);
        Assert.Contains("imported before", againOut);
    }

    /// <summary>A printed command line split as a POSIX shell splits it: at spaces, single-quoted text kept whole, \ escaping one character.</summary>
    private static string[] ShellWords(string line)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        bool inWord = false, quoted = false, escaped = false;
        foreach (char c in line.Trim())
        {
            if (escaped) { word.Append(c); escaped = false; }
            else if (c == '\'') { quoted = !quoted; inWord = true; }
            else if (c == '\\' && !quoted) { escaped = true; inWord = true; }
            else if (c == ' ' && !quoted) { if (inWord) words.Add(word.ToString()); word.Clear(); inWord = false; }
            else { word.Append(c); inWord = true; }
        }
        Assert.False(quoted || escaped, line);
        if (inWord) words.Add(word.ToString());
        return words.ToArray();
    }

    [Fact]
    public void An_OpenLth_run_TicketLab_cannot_reproduce_is_refused_by_name_and_leaves_the_store_alone()
    {
        string log = Path.Combine(openLthRun, "replicate_1", "level_0", "main", "hparams.log");
        File.WriteAllText(log, File.ReadAllText(log).Replace("    * batch_size => 32", "    * batch_size => 32\n    * random_labels_fraction => 0.5"));
        var (code, _, error) = TestCli.Run(["import", "openlth", openLthRun, .. Settings()]);
        Assert.Equal(CommandErrors.DataError, code);
        Assert.Contains("random_labels_fraction => 0.5", error);
        Assert.False(Directory.Exists(store) && Directory.EnumerateDirectories(store, "lottery_*").Any());

        var (notOpenLth, _, notOpenLthError) = TestCli.Run(["import", "openlth", data, .. Settings()]);
        Assert.Equal(CommandErrors.DataError, notOpenLth);
        Assert.Contains("not an OpenLTH lottery run", notOpenLthError);
    }

    [Fact]
    public void A_missing_logger_is_replaced_by_TicketLabs_evaluation_with_a_note()
    {
        File.Delete(Path.Combine(openLthRun, "replicate_1", "level_1", "main", "logger"));
        var (code, output, error) = TestCli.Run(["import", "openlth", Path.Combine(openLthRun, "replicate_1"), .. Settings()]);
        Assert.True(code == 0, error);
        Assert.Contains("logger file is missing", output);
        var summaryJson = JsonNode.Parse(File.ReadAllText(Directory.GetFiles(store, "summary.json", SearchOption.AllDirectories).Single(f => f.Contains("level_1"))))!;
        Assert.Contains("TicketLab evaluated", (string)summaryJson["accuracy_source"]!);
    }
}
