using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public CliTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, CliEnvironment.ForTests(stdout, stderr));
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A tiny training command; pairs in <paramref name="overrides"/> replace or add flags.</summary>
    private string[] Tiny(params string[] overrides)
    {
        var flags = new List<(string Flag, string? Value)>
        {
            ("--dataset-name", "mnist"), ("--model-name", "lenet_20"), ("--training-steps", "1ep"),
            ("--data-dir", data), ("--root", temp.Combine("store")), ("--quiet", null),
        };
        for (int i = 0; i < overrides.Length; i++)
        {
            string flag = overrides[i];
            string? value = i + 1 < overrides.Length && !overrides[i + 1].StartsWith("--", StringComparison.Ordinal) ? overrides[++i] : null;
            flags.RemoveAll(f => f.Flag == flag);
            flags.Add((flag, value));
        }
        return ["train", .. flags.SelectMany(f => f.Value is null ? new[] { f.Flag } : [f.Flag, f.Value])];
    }

    [Fact]
    public void Help_and_version_name_the_ticketlab_command()
    {
        var (code, help, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("ticketlab [command] [options]", help);
        var (trainCode, trainHelp, _) = Run("train", "--help");
        Assert.Equal(0, trainCode);
        Assert.Contains("ticketlab train [options]", trainHelp);

        var (versionCode, version, _) = Run("--version");
        Assert.Equal(0, versionCode);
        var (number, commit) = TicketLab.Training.Provenance.TicketLabVersion();
        Assert.Matches(@"^\d+\.\d+\.\d+", number); // VersionPrefix, not the SDK's 1.0.0 default with a 40-digit commit
        Assert.Equal(commit is null ? $"ticketlab {number}" : $"ticketlab {number} (commit {commit[..7]})", version.Trim());
    }

    [Fact]
    public void Help_lists_every_hyperparameter_with_the_preset_default()
    {
        var (code, output, _) = Run("train", "--preset", "resnet_20_warmup", "--help");
        Assert.Equal(0, code);
        foreach (var flag in new[] { "--model-name", "--dataset-name", "--batch-size", "--lr", "--momentum", "--weight-decay", "--training-steps",
                     "--warmup-steps", "--milestone-steps", "--gamma", "--optimizer-name", "--model-init", "--model-init-seed", "--data-order-seed", "--replicate",
                     "--root", "--json", "--quiet", "--device", "--threads", "--data-dir", "--download", "--train-subset" })
            Assert.Contains(flag, output);
        Assert.Contains("[default: 0.03]", output);
        Assert.Contains("[default: 30000it]", output);
        Assert.Contains("[default: 80ep,120ep]", output);
        Assert.Contains("[default: cifar10]", output);
    }

    [Fact]
    public void Json_prints_the_summary_and_the_run_lands_in_the_hashed_folder()
    {
        var (code, output, error) = Run(Tiny("--json"));
        Assert.True(code == 0, error);
        var summary = JsonNode.Parse(output)!;
        Assert.InRange((double)summary["final_test_accuracy"]!, 0.0, 1.0);
        string folder = (string)summary["folder"]!;
        Assert.StartsWith(temp.Combine("store", "train_"), folder);
        Assert.True(File.Exists(Path.Combine(folder, "hparams.json")));
        Assert.Contains("Output:", error); // human text moves to stderr under --json

        var (again, listing, _) = Run("list", "--root", temp.Combine("store"));
        Assert.Equal(0, again);
        Assert.Contains("finished", listing);
        Assert.Contains("lenet_20", listing);
    }

    /// <summary>
    /// Each --quiet line shows what the run stores for its step: metrics.csv's epoch-mean training loss and
    /// accuracy and its test accuracy there, and the images/s of summary.json on the last line (the run's figure
    /// so far on the others), so the log can be matched to the files.
    /// </summary>
    [Fact]
    public void Quiet_lines_show_the_values_the_run_stores()
    {
        // 8 iterations an epoch, ending within the third: lines at iterations 0, 8, 16 and 19.
        var (code, output, error) = Run(Tiny("--batch-size", "32", "--training-steps", "2ep3it", "--json"));
        Assert.True(code == 0, error);
        var summary = JsonNode.Parse(output)!;
        string folder = (string)summary["folder"]!;
        var rows = File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Skip(1).Select(line => line.Split(','))
            .Select(c => (Name: c[0], Step: long.Parse(c[1], CultureInfo.InvariantCulture), Value: double.Parse(c[2], CultureInfo.InvariantCulture)))
            .ToArray();
        string Stored(string name, long step, string format) =>
            rows.SingleOrDefault(r => r.Name == name && r.Step == step) is { Name: not null } row ? row.Value.ToString(format, CultureInfo.InvariantCulture) : "-";

        var lines = error.Split('\n').Select(line => System.Text.RegularExpressions.Regex.Match(line,
                @" epoch (\d+)/(\d+) it (\d+): loss (\S+)  acc (.+?)  test (.+?)  (\S+) img/s  \(\d+\.\d s\)$"))
            .Where(m => m.Success).ToArray();
        Assert.Equal([0L, 8, 16, 19], lines.Select(m => long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)));
        foreach (var line in lines)
        {
            long step = long.Parse(line.Groups[3].Value, CultureInfo.InvariantCulture);
            Assert.Equal(Stored("train_loss_epoch_mean", step, "F4"), line.Groups[4].Value);
            Assert.Equal(Stored("train_accuracy_epoch_mean", step, "P1"), line.Groups[5].Value);
            Assert.Equal(Stored("test_accuracy", step, "P2"), line.Groups[6].Value);
        }
        Assert.Equal("-", lines[0].Groups[4].Value); // nothing trained yet at iteration 0
        Assert.NotEqual("-", lines[^1].Groups[6].Value); // the end is evaluated
        Assert.Equal("-", lines[0].Groups[7].Value);
        Assert.All(lines[1..], line => Assert.True(double.Parse(line.Groups[7].Value, NumberStyles.Number, CultureInfo.InvariantCulture) > 0, line.Value));
        Assert.Equal(((double)summary["images_per_second"]!).ToString("N0", CultureInfo.InvariantCulture), lines[^1].Groups[7].Value);
    }

    [Fact]
    public void Flags_override_the_preset()
    {
        var (code, output, error) = Run(["train", "--preset", "lenet_300_100", "--dataset-name", "mnist", "--model-name", "lenet_20",
            "--training-steps", "2it", "--lr", "0.01", "--data-dir", data, "--root", temp.Combine("store"), "--quiet", "--json"]);
        Assert.True(code == 0, error);
        var hparams = JsonNode.Parse(File.ReadAllText(Path.Combine((string)JsonNode.Parse(output)!["folder"]!, "hparams.json")))!;
        Assert.Equal(0.01, (double)hparams["training"]!["lr"]!);
        Assert.Equal("lenet_20", (string)hparams["model"]!["model_name"]!);
        Assert.Equal(128, (int)hparams["dataset"]!["batch_size"]!);
    }

    [Theory]
    [InlineData("--lr", "fast", "--lr")]
    [InlineData("--training-steps", "ten", "--training-steps")]
    [InlineData("--optimizer-name", "lbfgs", "sgd, adam")]
    [InlineData("--model-name", "resnet_21", "6n+2")]
    [InlineData("--dataset-name", "imagenet", "fashion_mnist")]
    [InlineData("--batch-size", "0", "--batch-size")]
    public void Bad_values_get_a_specific_error(string flag, string value, string expected)
    {
        var (code, _, error) = Run(Tiny(flag, value));
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Cuda_without_a_cuda_libtorch_is_a_clear_error()
    {
        // The CPU build of TorchSharp used here cannot initialise CUDA.
        var (code, _, error) = Run(Tiny("--device", "cuda"));
        Assert.Equal(2, code);
        Assert.Contains("--device cpu", error);
    }

    [Fact]
    public void Unknown_preset_lists_the_known_ones()
    {
        var (code, _, error) = Run("train", "--preset", "resnet_9000", "--root", temp.Path);
        Assert.Equal(2, code);
        Assert.Contains("lenet_300_100", error);
    }

    [Fact]
    public void Missing_dataset_names_the_fix()
    {
        var (code, _, error) = Run("train", "--dataset-name", "cifar10", "--model-name", "resnet_20", "--data-dir", temp.Combine("empty"), "--root", temp.Path, "--quiet");
        Assert.Equal(3, code);
        Assert.Contains("--download", error);
        Assert.Contains("--data-dir", error);
    }
}
