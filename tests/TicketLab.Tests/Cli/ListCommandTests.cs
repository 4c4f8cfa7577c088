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
}
