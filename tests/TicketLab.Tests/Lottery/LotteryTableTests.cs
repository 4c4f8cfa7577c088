using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Lottery;
using TicketLab.Store;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Lottery;

/// <summary>The lottery summary as data: fractions, flat rows, no float noise.</summary>
public sealed class LotteryTableTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private void WriteRun(string run, int replicate, int level, string folder, double final, double best, JsonObject? mask = null)
    {
        string path = temp.Combine("store", run, $"replicate_{replicate}", $"level_{level}", folder);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "summary.json"), new JsonObject
        {
            ["final_test_accuracy"] = final, ["final_test_loss"] = 0.5, ["best_test_accuracy"] = best, ["best_test_accuracy_step"] = 8,
            ["iterations"] = 16, ["iterations_per_epoch"] = 8,
        }.ToJsonString());
        if (mask is not null) File.WriteAllText(Path.Combine(path, "mask.json"), mask.ToJsonString());
    }

    [Fact]
    public void Rows_are_flat_fractions_with_replicate_statistics_and_no_float_noise()
    {
        const string run = "lottery_00000000000000aa";
        foreach (var (replicate, a, b) in new[] { (1, 0.7362, 0.7351), (2, 0.7412, 0.7288), (3, 0.7371, 0.7301) })
        {
            WriteRun(run, replicate, 0, "main", a, a, new JsonObject { ["total"] = 266200, ["remaining"] = 266200, ["sparsity"] = 0.0 });
            WriteRun(run, replicate, 1, "main", b, b + 0.001, new JsonObject { ["total"] = 266200, ["remaining"] = 212960, ["sparsity"] = 0.19999999999999996 });
        }
        WriteRun(run, 1, 1, "random_reinit_44136fa3", 0.7, 0.71); // no hparams.json: the folder stands for the settings

        var table = LotteryTable.Read(new ExperimentStore(temp.Combine("store")), run);
        Assert.Equal([1.0, 0.8], table.Rows.Select(r => r.FractionRemaining)); // 212960 / 266200, one division: exactly 0.8
        var json = table.ToJson();
        var rows = json["rows"]!.AsArray().Select(r => r!.AsObject()).ToArray();
        Assert.Equal(["ticket", "ticket", "random_reinit_44136fa3"], rows.Select(r => (string)r["series"]!));
        Assert.Equal("random_reinit", (string)rows[2]["branch"]!);
        var level1 = rows[1];
        Assert.Equal(1, (int)level1["level"]!);
        Assert.Equal(0.8, (double)level1["fraction_remaining"]!);
        Assert.Equal(0.731333333333, (double)level1["final_test_accuracy_mean"]!); // derived: 12 significant digits
        Assert.Equal(0.7288, (double)level1["final_test_accuracy_min"]!);
        Assert.Equal(0.7351, (double)level1["final_test_accuracy_max"]!);
        Assert.Equal(3, (int)level1["replicates"]!);
        Assert.Equal(0, (int)level1["diverged"]!);
        Assert.Equal(0.738166666667, (double)json["dense_final_test_accuracy_mean"]!);
        string text = json.ToJsonString();
        Assert.DoesNotContain("percent", text);
        Reporting.ExperimentReportTests.AssertNoFloatNoise(text);
    }

    [Fact]
    public void A_mask_summary_without_counts_reads_its_sparsity_rounded()
    {
        string path = temp.Combine("mask.json");
        File.WriteAllText(path, """{"sparsity": 0.19999999999999996}""");
        Assert.Equal(0.8, LotteryTable.FractionRemaining(path));
        Assert.Null(LotteryTable.FractionRemaining(temp.Combine("missing.json")));
    }

    [Theory]
    [InlineData("ticket", "ticket")]
    [InlineData("retrain (retrain_lr=0.05, data_order_seed=7)", "retrain")]
    [InlineData("random_prune_44136fa3", "random_prune")]
    [InlineData("random_prune_44136fa355b3678a", "random_prune")]
    [InlineData("my_branch", "my_branch")]
    public void Series_labels_name_their_branch(string series, string branch) => Assert.Equal(branch, LotteryTable.BranchOf(series));

    [Fact]
    public void Derived_numbers_lose_the_float_noise_and_keep_what_was_meant()
    {
        Assert.Equal(0.3, DataNumbers.Derived(0.1 + 0.2));
        Assert.Equal("0.7387", DataNumbers.Format(DataNumbers.Derived((0.7362 + 0.7412) / 2)));
        Assert.Equal("73.62", DataNumbers.Format(DataNumbers.Derived(100 * 0.7362)));
        Assert.Equal("0.333333333333", DataNumbers.Format(DataNumbers.Derived(1.0 / 3)));
        Assert.Equal(0.8, DataNumbers.Fraction(4, 5));
        Assert.Equal("0.2", DataNumbers.Fraction(266200 - 212960, 266200).ToString("R", CultureInfo.InvariantCulture));
        Assert.True(double.IsNaN(DataNumbers.Derived(double.NaN)));
        Assert.True(double.IsNaN(DataNumbers.Fraction(1, 0)));
    }
}
