using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Cli;

/// <summary><c>ticketlab list</c>: what tells experiments apart, every kind listed, typed JSON.</summary>
public sealed class ListCommandTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;

    public ListCommandTests()
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

    private string[] Recipe(string lr = "0.05") =>
        ["--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--lr", lr, "--training-steps", "1ep", "--data-dir", data, "--quiet"];

    [Fact]
    public void List_names_what_differs_between_experiments_of_a_kind_and_lists_sweeps_with_typed_json()
    {
        Run(["train", .. Recipe()]);
        Run(["train", .. Recipe(lr: "0.01"), "--warmup-steps", "2it"]);
        Run(["rewind-sweep", .. Recipe(), "--steps", "0it,3it", "--points", "3"]);

        var rows = JsonNode.Parse(Run("list", "--json"))!.AsArray().Select(r => r!.AsObject()).ToArray();
        var train = rows.Where(r => (string)r["kind"]! == "train").ToArray();
        Assert.Equal(2, train.Length);
        var slow = train.Single(r => (double?)r["differs"]!["training.lr"] == 0.01);
        Assert.Equal("2it", (string)slow["differs"]!["training.warmup_steps"]!);
        Assert.Equal(JsonValueKind.Number, slow["differs"]!["training.lr"]!.GetValueKind());
        Assert.Equal(["training.lr", "training.warmup_steps"], train[0]["differs"]!.AsObject().Select(p => p.Key));
        Assert.All(rows, r => Assert.DoesNotContain(r["differs"]!.AsObject(), p => p.Key.Contains("run_name", StringComparison.Ordinal)));

        // Typed fields: the state as a snake_case string, the replicate as a number (null for a sweep, stored as one file).
        Assert.All(train, r => Assert.Equal("finished", (string)r["state"]!));
        Assert.All(train, r => Assert.Equal(JsonValueKind.Number, r["replicate"]!.GetValueKind()));
        var sweep = Assert.Single(rows, r => (string)r["kind"]! == "rewind_sweep");
        Assert.Null(sweep["replicate"]);
        Assert.Equal("finished", (string)sweep["state"]!);
        Assert.Contains("2 start steps", (string)sweep["detail"]!);
        Assert.Single(rows, r => (string)r["kind"]! == "rewind_parent");
        // The sweep's copies are instability analyses, told apart by the step they start from.
        var copies = rows.Where(r => (string)r["kind"]! == "instability").ToArray();
        Assert.Equal(["0it", "3it"], copies.Select(r => (string)r["differs"]!["start_step"]!).Order(StringComparer.Ordinal));

        string table = Run("list");
        Assert.Contains("differs", table);
        Assert.Contains("lr=0.01,", table);
        Assert.Contains("warmup_steps=2it", table);
        Assert.Contains("rewind_sweep_", table);
        Assert.Contains("start_step=3it", table);
    }
    [Fact]
    public void List_shows_each_lottery_level_and_results_gathers_every_result_of_the_store_with_its_recipe()
    {
        Run(["train", .. Recipe()]);
        Run(["train", .. Recipe(lr: "0.01")]);
        Run(["lottery", .. Recipe(), "--levels", "1"]);

        var rows = JsonNode.Parse(Run("list", "--json"))!.AsArray().Select(r => r!.AsObject()).ToArray();
        var lottery = rows.Where(r => (string)r["kind"]! == "lottery").ToArray();
        Assert.Equal([null, 0, 1], lottery.Select(r => (int?)r["level"]));
        Assert.All(lottery, r => Assert.False((bool)r["imported"]!));
        Assert.Equal("finished", (string)lottery[2]["state"]!);
        Assert.StartsWith("80.", (string)lottery[2]["detail"]!); // level 1 keeps 80% of the prunable weights (a few stay dense)

        // Every row of every experiment's results.csv, with the recipe's differing hyperparameters as columns.
        string csv = Run("results");
        var lines = csv.TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        Assert.Equal(["experiment", "kind", "replicate", "level", "fraction_remaining", "series", "start_step", "metric", "value", "preset", "overrides"], header[..11]);
        Assert.Contains("training.lr", header);
        int stored = Directory.GetFiles(store, "results.csv", SearchOption.AllDirectories).Sum(f => File.ReadAllLines(f).Length - 1);
        Assert.Equal(stored, lines.Length - 1);

        // Filtered by kind and hyperparameter (numbers compare as numbers), as JSON lines.
        var jsonl = Run("results", "--kind", "train", "--where", "training.lr=1e-2", "--format", "jsonl").TrimEnd('\n').Split('\n').Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.NotEmpty(jsonl);
        Assert.All(jsonl, r => Assert.Equal(("train", 0.01), ((string)r["kind"]!, (double)r["training.lr"]!)));
        Assert.All(jsonl, r => Assert.Contains("lr=0.01", (string)r["overrides"]!));
        Assert.Empty(Run("results", "--preset", "resnet_20").TrimEnd('\n').Split('\n')[1..]); // nothing here is nearest to resnet_20

        var (code, _, error) = TestCli.Run("results", "--where", "training.lrr=0.1", "--root", store);
        Assert.Equal(2, code);
        Assert.Contains("no experiment in", error);
        Assert.Contains("'training.lrr'", error);
    }
}
