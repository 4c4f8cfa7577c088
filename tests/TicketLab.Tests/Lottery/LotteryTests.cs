using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Tests.Lottery;

public sealed class LotteryTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public LotteryTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static LotteryDesc Desc(string rewind = "0it", string steps = "2ep", double? oneShot = null, string? ignore = null) => new(
        TestRuns.TinyLenet(steps),
        new PruningHparams { PruningLayersToIgnore = ignore },
        new LotteryHparams { RewindStep = StepSpec.Parse(rewind), OneShotSparsity = oneShot });

    private RunContext Context(string store = "store", CancellationToken cancellation = default,
        Func<RunFolder, MetricsLog, TimingCallback, IEnumerable<ITrainingCallback>>? observers = null) =>
        TestRuns.Context(temp.Combine(store), data, cancellation, observers);

    private static Dictionary<string, Tensor> Load(string path) => TensorFile.Load(path);

    [Fact]
    public void Sparsity_after_L_levels_follows_0_8_to_the_L_over_the_pruned_layers()
    {
        var desc = Desc();
        var results = LotteryRunner.Run(desc, 1, 4, new RunOptions(), Context());
        var layout = LotteryRunner.Layout(Context(), desc, 1);
        long prunable = 784 * 32 + 32 * 16; // fc.weight (the lenet output layer) is ignored by default
        long remaining = prunable;
        for (int level = 1; level <= 4; level++)
        {
            remaining -= (long)Math.Ceiling(0.2 * remaining);
            using var mask = Mask.Load(layout.MaskPath(level));
            Assert.Equal(remaining + 160, mask.RemainingWeights);
            Assert.Equal(160, mask.Remaining("fc.weight"));
            Assert.Equal(Math.Pow(0.8, level), (double)(mask.RemainingWeights - 160) / prunable, 3);
        }
        Assert.Equal(5, results.Count);
        Assert.All(results, r => Assert.True(r.Summary.FinalTestAccuracy > 0.5));
    }

    [Fact]
    public void Replicates_pruned_side_by_side_as_one_stack_match_their_lone_runs()
    {
        var desc = Desc(rewind: "3it") with { Pruning = new PruningHparams { PruningFraction = 0.5 } };
        var stacked = LotteryRunner.Run(desc, [1, 2], 2, new RunOptions(), Context("stacked"));
        var lone = LotteryRunner.Run(desc, [1, 2], 2, new RunOptions { NetworksPerProcess = 1 }, Context("lone"));
        for (int r = 0; r < 2; r++)
        {
            var (a, b) = (LotteryRunner.Layout(Context("lone"), desc, r + 1), LotteryRunner.Layout(Context("stacked"), desc, r + 1));
            for (int level = 0; level <= 2; level++)
            {
                Assert.Equal(lone[r][level].Density, stacked[r][level].Density);
                using var maskA = Mask.Load(a.MaskPath(level));
                using var maskB = Mask.Load(b.MaskPath(level));
                Assert.All(maskA.Names, n => Assert.True(maskA[n].eq(maskB[n]).all().item<bool>(), $"level {level} {n}"));
                var (wa, wb) = (Load(a.Main(level).FinalModelPath), Load(b.Main(level).FinalModelPath));
                foreach (var (name, w) in wa)
                    Assert.True((w - wb[name]).abs().max().item<float>() <= 1e-4 * w.abs().max().item<float>(), $"level {level} {name}");
                // Pruned weights stay exactly zero in the stack too.
                if (level > 0) Assert.All(maskB.Names, n => Assert.True(wb[n].mul(maskB[n].logical_not()).eq(0).all().item<bool>()));
                var session = JsonNode.Parse(File.ReadAllText(b.Main(level).ProvenancePath))!["sessions"]![0]!;
                Assert.Equal(2, (int)session["stacked"]!["networks"]!);
            }
        }

        // A branch over replicates and levels: the four runs, each on its own mask, as one stack.
        var reinit = BranchRegistry.Get("random_reinit");
        (int, int)[] runs = [(1, 1), (1, 2), (2, 1), (2, 2)];
        var stackedBranch = BranchRegistry.RunMany(reinit, new RandomReinitHparams(), desc, runs, new RunOptions(), Context("stacked"));
        var loneBranch = BranchRegistry.RunMany(reinit, new RandomReinitHparams(), desc, runs, new RunOptions { NetworksPerProcess = 1 }, Context("lone"));
        foreach (var (x, y) in loneBranch.Zip(stackedBranch))
        {
            var (wa, wb) = (Load(new RunFolder(x.Folder).FinalModelPath), Load(new RunFolder(y.Folder).FinalModelPath));
            foreach (var (name, w) in wa)
                Assert.True((w - wb[name]).abs().max().item<float>() <= 1e-4 * w.abs().max().item<float>(), $"{y.Folder} {name}");
            var session = JsonNode.Parse(File.ReadAllText(new RunFolder(y.Folder).ProvenancePath))!["sessions"]![0]!;
            Assert.Equal(4, (int)session["stacked"]!["networks"]!);
            Assert.Null(JsonNode.Parse(File.ReadAllText(new RunFolder(x.Folder).ProvenancePath))!["sessions"]![0]!["stacked"]);
        }
    }

    [Fact]
    public void Rewinding_restores_the_saved_values_of_surviving_weights_at_the_rewind_step()
    {
        var desc = Desc(rewind: "5it");
        LotteryRunner.Run(desc, 1, 1, new RunOptions(), Context());
        var layout = LotteryRunner.Layout(Context(), desc, 1);
        var rewindStep = new Step(5, 8);
        var dense = Load(layout.Main(0).ModelPath(rewindStep));
        var levelStart = Load(layout.Main(1).ModelPath(rewindStep)); // saved when level 1 started at the rewind step
        using var mask = Mask.Load(layout.MaskPath(1));
        foreach (var (name, value) in dense)
        {
            var expected = mask.Contains(name) ? value * mask[name] : value;
            Assert.True(expected.eq(levelStart[name]).all().item<bool>(), name);
        }
        var final = Load(layout.Main(1).FinalModelPath);
        foreach (var name in mask.Names)
            Assert.Equal(0f, final[name].mul(mask[name].logical_not()).abs().sum().item<float>());
        var metrics = MetricsLog.Read(layout.Main(1).MetricsPath);
        Assert.Equal(5, metrics.First(r => r.Name == "test_accuracy").Step); // the schedule continues from step 5
    }

    [Fact]
    public void Interrupted_lottery_resumes_where_it_stopped_and_never_redoes_finished_levels()
    {
        var desc = Desc();
        LotteryRunner.Run(desc, 1, 3, new RunOptions(), Context("reference"));

        using var cancellation = new CancellationTokenSource();
        var interrupted = Context("resumed", cancellation.Token, (folder, _, _) =>
            folder.Path.Contains("level_2") ? [new CancelAtIteration(9, cancellation)] : []);
        Assert.ThrowsAny<OperationCanceledException>(() => LotteryRunner.Run(desc, 1, 3, new RunOptions(), interrupted));
        var layout = LotteryRunner.Layout(Context("resumed"), desc, 1);
        Assert.True(layout.Main(1).IsFinished);
        Assert.False(layout.Main(2).IsFinished);
        var level1Stamp = File.GetLastWriteTimeUtc(layout.Main(1).SummaryPath);

        var results = LotteryRunner.Run(desc, 1, 3, new RunOptions(), Context("resumed"));
        Assert.True(results[1].Summary.AlreadyFinished);
        Assert.Equal(level1Stamp, File.GetLastWriteTimeUtc(layout.Main(1).SummaryPath));
        var reference = LotteryRunner.Layout(Context("reference"), desc, 1);
        for (int level = 0; level <= 3; level++)
        {
            var expected = Load(reference.Main(level).FinalModelPath);
            var actual = Load(layout.Main(level).FinalModelPath);
            foreach (var (name, value) in expected) Assert.True(value.eq(actual[name]).all().item<bool>(), $"level {level} {name}");
        }
    }

    [Fact]
    public void One_shot_pruning_goes_straight_to_the_sparsity()
    {
        var desc = Desc(oneShot: 0.9, ignore: "none");
        var results = LotteryRunner.Run(desc, 1, 5, new RunOptions(), Context());
        Assert.Equal(2, results.Count);
        Assert.Equal(0.1, results[1].Density, 3);
    }

    [Fact]
    public void Branch_controls_get_the_intended_masks_and_initializations()
    {
        var desc = Desc();
        LotteryRunner.Run(desc, 1, 2, new RunOptions(), Context());
        var context = Context();
        var layout = LotteryRunner.Layout(context, desc, 1);
        using var ticketMask = Mask.Load(layout.MaskPath(2));
        var ticketInit = Load(layout.Main(0).ModelPath(new Step(0, 8)));

        var reinit = BranchRegistry.Run(BranchRegistry.Get("random_reinit"), new RandomReinitHparams { Seed = 3 }, desc, 1, 2, new RunOptions(), context);
        var reinitStart = Load(Path.Combine(reinit.Folder, "models", "model_ep0_it0.bin"));
        foreach (var name in ticketMask.Names)
        {
            var pruned = ticketMask[name].logical_not();
            Assert.Equal(0f, reinitStart[name].mul(pruned).abs().sum().item<float>());
            Assert.False(reinitStart[name].eq(ticketInit[name] * ticketMask[name]).all().item<bool>(), "a fresh initialization");
        }

        var prune = BranchRegistry.Run(BranchRegistry.Get("random_prune"), new RandomPruneHparams(), desc, 1, 2, new RunOptions(), context);
        using var randomMask = Mask.Load(Path.Combine(prune.Folder, "mask.bin"));
        var pruneStart = Load(Path.Combine(prune.Folder, "models", "model_ep0_it0.bin"));
        foreach (var name in ticketMask.Names)
        {
            Assert.Equal(ticketMask.Remaining(name), randomMask.Remaining(name));
            Assert.True((ticketInit[name] * randomMask[name]).eq(pruneStart[name]).all().item<bool>(), "rewound weights under the random mask");
        }
        Assert.False(randomMask["fc_layers.0.weight"].eq(ticketMask["fc_layers.0.weight"]).all().item<bool>());

        using var global = RandomPruneBranch.RandomMask(ticketMask, RandomPruneScope.Global, 2);
        Assert.Equal(ticketMask.RemainingWeights, global.RemainingWeights);
        Assert.Equal(ticketMask.Total("fc.weight"), global.Remaining("fc.weight")); // a layer the ticket left dense stays dense

        var retrain = BranchRegistry.Run(BranchRegistry.Get("retrain"), new RetrainHparams { Training = desc.Training.Training with { DataOrderSeed = 9 } }, desc, 1, 2, new RunOptions(), context);
        var retrainStart = Load(Path.Combine(retrain.Folder, "models", "model_ep0_it0.bin"));
        var ticketStart = Load(layout.Main(2).ModelPath(new Step(0, 8)));
        foreach (var name in ticketMask.Names) Assert.True(retrainStart[name].eq(ticketStart[name]).all().item<bool>());
        var retrainFinal = Load(Path.Combine(retrain.Folder, "models", "model_final.bin"));
        var ticketFinal = Load(layout.Main(2).FinalModelPath);
        Assert.False(retrainFinal["fc.weight"].eq(ticketFinal["fc.weight"]).all().item<bool>(), "another data order gives other weights");
        Assert.Equal(9, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(retrain.Folder, "hparams.json")))!["data_order_seed"]!);

        var table = LotteryTable.Read(context.Store, desc.RunName);
        // Series are named by what they are (the settings a branch changes), never by the folder's hash.
        Assert.Equal(["ticket", "random_prune", "random_reinit (seed=3)", "retrain (data_order_seed=9)"], table.SeriesNames);
        Assert.Equal(reinit.FinalTestAccuracy, table.Rows[2].Series["random_reinit (seed=3)"].Final!.Mean);
    }

    [Fact]
    public void A_branch_on_an_unfinished_level_says_what_to_run()
    {
        var desc = Desc();
        LotteryRunner.Run(desc, 1, 0, new RunOptions(), Context());
        var error = Assert.Throws<InvalidDataException>(() =>
            BranchRegistry.Run(BranchRegistry.Get("random_reinit"), new RandomReinitHparams(), desc, 1, 3, new RunOptions(), Context()));
        Assert.Contains("--levels 3", error.Message);
    }

    [Theory]
    [InlineData("0-3,5,8-10", new[] { 0, 1, 2, 3, 5, 8, 9, 10 })]
    [InlineData("4", new[] { 4 })]
    [InlineData("2,1,2", new[] { 1, 2 })]
    public void Level_lists_parse(string text, int[] expected) => Assert.Equal(expected, BranchRegistry.ParseLevels(text));

    [Theory]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData("1--2")]
    public void Bad_level_lists_are_rejected(string text) =>
        Assert.Equal("--levels", Assert.Throws<HparamException>(() => BranchRegistry.ParseLevels(text)).Flag);

    private sealed class CancelAtIteration(long iteration, CancellationTokenSource source) : ITrainingCallback
    {
        public void AtStep(TrainingState state)
        {
            if (state.Step.Iteration == iteration) source.Cancel();
        }
    }
}
