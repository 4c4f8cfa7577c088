using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Experiments;
using TicketLab.Experiments.LevelAnalyses;
using TicketLab.Foundations;
using TicketLab.Pruning;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Experiments;

/// <summary>The analyses of a whole lottery run on a tiny two-level run with a re-initialized control, through the CLI.</summary>
public sealed class RoundAnalysesTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;

    public RoundAnalysesTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        store = temp.Combine("store");
        Assert.Equal(0, TestCli.Run(["lottery", .. Recipe(), "--levels", "2"]).Code);
        Assert.Equal(0, TestCli.Run(["branch", "random_reinit", .. Recipe(), "--levels", "1-2"]).Code);
    }

    public void Dispose() => temp.Dispose();

    private string[] Recipe() =>
        ["--preset", "lenet_300_100", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32",
         "--training-steps", "2ep", "--data-dir", data, "--root", store, "--threads", "1", "--quiet"];

    private JsonArray Analyze(string name, params string[] extra)
    {
        var (code, output, error) = TestCli.Run(["analyze", name, .. Recipe(), .. extra, "--json"]);
        Assert.True(code == 0, error);
        return JsonNode.Parse(output)!["results"]!.AsArray();
    }

    private string Replicate => Directory.GetDirectories(store, "replicate_1", SearchOption.AllDirectories).Single();
    private string Level(int level) => Path.Combine(Replicate, $"level_{level}");
    private string Reinit(int level) => Directory.GetDirectories(Level(level), "random_reinit_*").Single();
    private static Dictionary<string, TorchSharp.torch.Tensor> Trained(string run) => TensorFile.Load(Path.Combine(run, "models", "model_final.bin"));

    [Fact]
    public void Round_distances_cover_every_earlier_round_and_the_initialization_and_match_the_weight_distances()
    {
        var results = Analyze("round_distances", "--levels", "0-2");
        Assert.Equal([0, 1, 2], results.Select(r => (int)r!["level"]!));
        var level2 = RoundDistances.FromJson(results[2]!["result"]!);
        string reinit = Path.GetFileName(Reinit(2));
        Assert.Equal([("main", (int?)0), ("main", 1), ("main", null), (reinit, 0), (reinit, 1), (reinit, null)],
            level2.Pairs.Select(p => (p.Network, p.OtherLevel)));
        Assert.All(results.SelectMany(r => RoundDistances.FromJson(r!["result"]!).Pairs), p => Assert.InRange(p.Distances.AngularDistance, 0, 1));

        // Recomputed directly: main at level 2 against main at level 1, over level 2's mask (masks are nested).
        using var mask = Mask.Load(Path.Combine(Level(2), "main", "mask.bin"));
        var a = Trained(Path.Combine(Level(2), "main"));
        var b = Trained(Path.Combine(Level(1), "main"));
        var direct = WeightDistances.Compute(a, b, mask);
        var stored = level2.Pairs.Single(p => p.Network == "main" && p.OtherLevel == 1);
        Assert.Equal(direct.L2Distance, stored.Distances.L2Distance, 12);
        Assert.Equal(1 - direct.CosineSimilarity, stored.CosineDistance, 12);
        Assert.Equal(mask.Density, stored.Compared, 12);
        // A network against itself is at distance 0; the control starts elsewhere than IMP's dense network, so it is far from it.
        Assert.Equal(0, WeightDistances.Compute(a, a, mask).L2Distance);
        Assert.True(level2.Pairs.Single(p => p.Network == reinit && p.OtherLevel == 0).Distances.AngularDistance
            > 5 * level2.Pairs.Single(p => p.Network == "main" && p.OtherLevel == 0).Distances.AngularDistance);

        // A branch run later joins the result when the level is analysed again; --networks main leaves it out.
        Assert.Equal(0, TestCli.Run(["branch", "random_prune", .. Recipe(), "--levels", "2"]).Code);
        var again = RoundDistances.FromJson(Analyze("round_distances", "--levels", "2")[0]!["result"]!);
        Assert.Contains(again.Pairs, p => p.Network.StartsWith("random_prune_", StringComparison.Ordinal));
        var mainOnly = RoundDistances.FromJson(Analyze("round_distances", "--levels", "2", "--networks", "main")[0]!["result"]!);
        Assert.All(mainOnly.Pairs, p => Assert.Equal("main", p.Network));
        var (missing, _, missingError) = TestCli.Run(["analyze", "round_distances", .. Recipe(), "--levels", "1", "--networks", "random_prune"]);
        Assert.Equal(CommandErrors.DataError, missing);
        Assert.Contains("has not finished at level 1", missingError);
        var (bad, _, badError) = TestCli.Run(["analyze", "round_distances", .. Recipe(), "--levels", "1", "--networks", "reinit"]);
        Assert.Equal(CommandErrors.UsageError, bad);
        Assert.StartsWith("error: --networks: 'reinit' is not all, main, a branch", badError);
        foreach (var t in a.Values.Concat(b.Values)) t.Dispose();
    }

    [Fact]
    public void Pruning_thresholds_separate_the_newly_pruned_weights_from_the_survivors()
    {
        var results = Analyze("pruning_thresholds", "--levels", "1-2");
        foreach (var result in results)
        {
            var thresholds = PruningThresholds.FromJson(result!["result"]!);
            int level = (int)result["level"]!;
            using var before = Mask.Load(Path.Combine(Level(level - 1), "main", "mask.bin"));
            using var after = Mask.Load(Path.Combine(Level(level), "main", "mask.bin"));
            Assert.Equal(before.RemainingWeights - after.RemainingWeights, thresholds.Global.Pruned);
            // Global magnitude pruning: every pruned |w| at most the threshold, every survivor of a pruned tensor above it.
            Assert.True(thresholds.Global.PrunedMaxAbs <= thresholds.Global.SurvivorMinAbs, $"level {level}: {thresholds.Global}");
            Assert.All(thresholds.Tensors.Where(t => t.Pruned > 0), t => Assert.True(t.PrunedMaxAbs <= thresholds.Global.PrunedMaxAbs && t.SurvivorMinAbs >= thresholds.Global.SurvivorMinAbs));
            Assert.True(thresholds.Global.PrunedMaxAbs > 0);
        }
    }

    [Fact]
    public void Weight_histograms_count_every_surviving_weight()
    {
        var results = Analyze("weight_histograms", "--levels", "0-2", "--at-rewind", "--range", "0.2");
        foreach (var result in results)
        {
            int level = (int)result!["level"]!;
            using var mask = Mask.Load(Path.Combine(Level(level), "main", "mask.bin"));
            var histograms = WeightHistograms.FromJson(result["result"]!).Histograms;
            Assert.Equal(level == 0 ? 2 : 4, histograms.Count); // trained and at rewind, IMP and (from level 1) the control
            Assert.All(histograms, h => Assert.Equal(mask.RemainingWeights, h.Surviving));
            Assert.All(histograms, h => Assert.Equal(100, h.Counts.Count));
        }
    }

    [Fact]
    public void Round_barriers_start_and_end_at_the_two_rounds_errors()
    {
        var results = Analyze("round_barriers", "--levels", "1-2", "--points", "5");
        foreach (var result in results)
        {
            int level = (int)result!["level"]!;
            var barriers = RoundBarriers.FromJson(result["result"]!).Networks;
            Assert.Equal(2, barriers.Count);
            var main = barriers.Single(b => b.Network == "main").Curve;
            Assert.Equal(5, main.Points.Count);
            double Error(string run) => 1 - (double)JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!["final_test_accuracy"]!;
            Assert.Equal(Error(Path.Combine(Level(level - 1), "main")), main.Points[0].TestError, 9);
            Assert.Equal(Error(Path.Combine(Level(level), "main")), main.Points[^1].TestError, 9);
            var control = barriers.Single(b => b.Network != "main").Curve;
            Assert.Equal(Error(level == 1 ? Path.Combine(Level(0), "main") : Reinit(level - 1)), control.Points[0].TestError, 9);
            Assert.Equal(Error(Reinit(level)), control.Points[^1].TestError, 9);
            Assert.True(main.ErrorBarrier >= main.ErrorExcessOverChord - 1e-12);
        }

        // The report draws them, with the other analyses' figures: heatmaps, barriers over sparsity, histograms.
        Analyze("round_distances", "--levels", "0-2");
        var (code, _, error) = TestCli.Run("report", Directory.GetParent(Replicate)!.FullName, "--root", store, "--out", temp.Combine("report"));
        Assert.True(code == 0, error);
        var figures = Directory.GetFiles(temp.Combine("report", "figures"), "*.png").Select(Path.GetFileNameWithoutExtension).ToArray();
        Assert.Contains(figures, f => f!.StartsWith("round_distances_", StringComparison.Ordinal) && f.EndsWith("_angular_main", StringComparison.Ordinal));
        Assert.Contains(figures, f => f!.StartsWith("round_barriers_", StringComparison.Ordinal) && f.EndsWith("_rise_above_chord", StringComparison.Ordinal));
        string html = File.ReadAllText(temp.Combine("report", "index.html"));
        Assert.Contains("Analysis: round_distances", html);
        Assert.Contains("Analysis: round_barriers", html);
    }
}
