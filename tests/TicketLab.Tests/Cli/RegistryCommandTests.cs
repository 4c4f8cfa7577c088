using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Cli;

/// <summary>Commands made from registries and hyperparameter records: level analyses, nested groups, run options.</summary>
public sealed class RegistryCommandTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;

    public RegistryCommandTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        store = temp.Combine("store");
    }

    public void Dispose() => temp.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => TestCli.Run(args);

    // A lottery recipe whose learning rate is not the preset's, so that "keeps the lottery run's values" is tested.
    private string[] Recipe() =>
        ["--preset", "lenet_300_100", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--lr", "0.07",
         "--training-steps", "2ep", "--data-dir", data, "--root", store, "--threads", "1", "--quiet"];

    [Fact]
    public void Analyze_layer_density_is_made_from_the_registry_stores_typed_results_and_reads_them_back()
    {
        Assert.Equal(0, Run(["lottery", .. Recipe(), "--levels", "2"]).Code);
        var (code, output, error) = Run(["analyze", "layer_density", .. Recipe(), "--levels", "0-2", "--magnitudes", "--json"]);
        Assert.True(code == 0, error);
        var results = JsonNode.Parse(output)!["results"]!.AsArray();
        Assert.Equal([0, 1, 2], results.Select(r => (int)r!["level"]!));
        foreach (var result in results)
        {
            var tensors = result!["result"]!["tensors"]!.AsArray();
            long remaining = tensors.Sum(t => (long)t!["remaining"]!), total = tensors.Sum(t => (long)t!["total"]!);
            int level = (int)result["level"]!;
            // Global 20% pruning per level of the prunable weights (the output layer stays dense in this preset).
            Assert.InRange((double)remaining / total, Math.Pow(0.8, level) - 0.01, Math.Pow(0.8, level) + 0.01);
            Assert.All(tensors, t => Assert.NotNull((double?)t!["survivor_mean_abs_at_rewind"]));
        }
        Assert.Contains("Layer density", error);

        // Stored: a second call reads the files back instead of recomputing them.
        string file = Directory.GetFiles(store, "level_1.json", SearchOption.AllDirectories).Single(f => f.Contains("layer_density_"));
        var written = File.GetLastWriteTimeUtc(file);
        Assert.Equal(0, Run(["analyze", "layer_density", .. Recipe(), "--levels", "1", "--magnitudes"]).Code);
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));

        var (listCode, listing, _) = Run("list", "--root", store);
        Assert.Equal(0, listCode);
        Assert.Contains("analyses: layer_density", listing);

        var (unfinished, _, unfinishedError) = Run(["analyze", "layer_density", .. Recipe(), "--levels", "3"]);
        Assert.Equal(CommandErrors.DataError, unfinished);
        Assert.Contains("level 3 has not finished", unfinishedError);
    }

    [Fact]
    public void Retrain_takes_a_whole_training_group_with_a_prefix_starting_from_the_lottery_runs_recipe()
    {
        var (help, helpText, _) = Run("branch", "retrain", "--help");
        Assert.Equal(0, help);
        foreach (var flag in new[] { "--retrain-lr", "--retrain-momentum", "--retrain-lr-schedule", "--retrain-gamma", "--retrain-data-order-seed", "--retrain-preset" })
            Assert.Contains(flag, helpText);

        Assert.Equal(0, Run(["lottery", .. Recipe(), "--levels", "1"]).Code);
        var (code, _, error) = Run(["branch", "retrain", .. Recipe(), "--levels", "1", "--retrain-data-order-seed", "5", "--retrain-training-steps", "1ep"]);
        Assert.True(code == 0, error);
        string folder = Directory.GetDirectories(store, "retrain_*", SearchOption.AllDirectories).Single();
        var hparams = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "hparams.json")))!;
        Assert.Equal(0.07, (double)hparams["training"]!["lr"]!); // the lottery run's value, not the preset's 0.1
        Assert.Equal("1ep", (string)hparams["training"]!["training_steps"]!);
        Assert.Equal(5, (int)hparams["data_order_seed"]!);

        var (bad, _, badError) = Run(["branch", "retrain", .. Recipe(), "--levels", "1", "--retrain-lr", "-1"]);
        Assert.Equal(CommandErrors.UsageError, bad);
        Assert.StartsWith("error: --retrain-lr: must be a positive finite number, got -1.", badError);
    }

    [Fact]
    public void Run_options_come_from_their_record_and_name_the_flag_in_errors()
    {
        var (code, _, error) = Run(["train", .. Recipe(), "--save-steps", "1ep,1ep5it", "--eval-train"]);
        Assert.True(code == 0, error);
        var run = Directory.GetDirectories(store, "replicate_1", SearchOption.AllDirectories).Single();
        Assert.True(File.Exists(Path.Combine(run, "models", "model_ep1_it0.bin")));
        Assert.Contains("train_accuracy", File.ReadAllText(Path.Combine(run, "metrics.csv")));
        var (bad, _, badError) = Run(["train", .. Recipe(), "--save-steps", "1xx"]);
        Assert.Equal(CommandErrors.UsageError, bad);
        Assert.StartsWith("error: --save-steps: '1xx' is not a step", badError);
    }
}
