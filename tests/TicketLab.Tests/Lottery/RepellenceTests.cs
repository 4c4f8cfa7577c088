using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Tests.Support;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Tests.Lottery;

/// <summary>The repellent loss of Maene et al. 2021 (section 4.2) and the per-level data order.</summary>
public sealed class RepellenceTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public RepellenceTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static LotteryDesc Desc(double lambda = 0, RepelScope scope = RepelScope.All, LevelDataOrder order = LevelDataOrder.Shared) => new(
        TestRuns.TinyLenet("2ep"),
        new PruningHparams { PruningLayersToIgnore = "none" },
        new LotteryHparams { RepelLambda = lambda, RepelScope = scope, LevelDataOrder = order });

    private RunContext Context() => TestRuns.Context(temp.Combine("store"), data);

    private static double Cosine(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b, Mask mask)
    {
        using var scope = NewDisposeScope();
        var x = cat(mask.Names.Select(n => (a[n] * mask[n]).flatten().to(ScalarType.Float64)).ToArray());
        var y = cat(mask.Names.Select(n => (b[n] * mask[n]).flatten().to(ScalarType.Float64)).ToArray());
        return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
    }

    [Fact]
    public void The_loss_is_lambda_times_the_mean_squared_cosine_with_the_earlier_networks_on_the_mask()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_20" }, new InputSpec(1, 8, 8, 10), 1);
        using var mask = Mask.Ones(model);
        using var half = new Mask(mask.Names.Select(n => KeyValuePair.Create(n, (rand(mask[n].shape) > 0.5).to(ScalarType.Float32))));
        new MaskConstraint(model, half).Apply();
        var earlier = new[] { 2, 3 }.Select(seed => (IReadOnlyDictionary<string, Tensor>)ModelState.Snapshot(ModelRegistry.Create(new ModelHparams { ModelName = "lenet_20" }, new InputSpec(1, 8, 8, 10), seed))).ToArray();
        using var loss = RepellentLoss.Create(model, half, earlier, lambda: 2);

        var current = ModelState.Snapshot(model);
        double expected = 2 * earlier.Average(e => Math.Pow(Cosine(current, e, half), 2));
        Assert.Equal(expected, loss.Compute().item<float>(), 5);
    }

    [Fact]
    public void A_gradient_step_on_a_positive_lambda_lowers_the_cosines_and_a_negative_one_raises_them()
    {
        foreach (double lambda in new[] { 2.0, -1.0 })
        {
            using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_20" }, new InputSpec(1, 8, 8, 10), 1);
            using var mask = Mask.Ones(model);
            // The earlier network: this one slightly moved, so the cosine starts near (not at) 1.
            var earlier = ModelState.Snapshot(model);
            foreach (var t in earlier.Values) t.add_(randn_like(t) * 0.05);
            using var loss = RepellentLoss.Create(model, mask, [earlier], lambda);
            double before = loss.Compute().item<float>() / lambda;
            using var optimizer = optim.SGD(model.parameters(), 0.5);
            optimizer.zero_grad();
            loss.Compute().backward();
            optimizer.step();
            double after = loss.Compute().item<float>() / lambda;
            if (lambda > 0) Assert.True(after < before, $"lambda {lambda}: cos^2 {before} -> {after}");
            else Assert.True(after > before, $"lambda {lambda}: cos^2 {before} -> {after}");
        }
    }

    [Fact]
    public void A_repellent_run_records_its_earlier_levels_and_ends_further_from_them_than_plain_IMP()
    {
        var context = Context();
        var plain = Desc();
        var repelled = Desc(lambda: 10); // strong, so that two short epochs show it
        Assert.NotEqual(plain.RunName, repelled.RunName);
        LotteryRunner.Run(plain, 1, 2, new RunOptions(), context);
        LotteryRunner.Run(repelled, 1, 2, new RunOptions(), context);

        double CosineToLevel1(LotteryDesc desc)
        {
            var layout = LotteryRunner.Layout(context, desc, 1);
            using var mask = Mask.Load(layout.MaskPath(2));
            return Cosine(TensorFile.Load(layout.Main(2).FinalModelPath), TensorFile.Load(layout.Main(1).FinalModelPath), mask);
        }
        Assert.True(CosineToLevel1(repelled) < CosineToLevel1(plain) - 0.005, $"repelled {CosineToLevel1(repelled)}, plain {CosineToLevel1(plain)}");

        var hparams = JsonNode.Parse(File.ReadAllText(LotteryRunner.Layout(context, repelled, 1).Main(2).HparamsPath))!;
        Assert.Equal("[0,1]", hparams["repellent_loss"]!["levels"]!.ToJsonString());
        Assert.Null(JsonNode.Parse(File.ReadAllText(LotteryRunner.Layout(context, plain, 1).Main(2).HparamsPath))!["repellent_loss"]);
    }

    [Fact]
    public void The_previous_scope_uses_only_the_level_before_and_a_branch_its_own_earlier_levels()
    {
        var context = Context();
        var desc = Desc(lambda: 2, scope: RepelScope.Previous);
        LotteryRunner.Run(desc, 1, 2, new RunOptions(), context);
        var layout = LotteryRunner.Layout(context, desc, 1);
        Assert.Equal("[1]", JsonNode.Parse(File.ReadAllText(layout.Main(2).HparamsPath))!["repellent_loss"]!["levels"]!.ToJsonString());

        var reinit = BranchRegistry.Get("random_reinit");
        // Level 2 of the control needs the control's level 1: refused until it exists.
        var error = Assert.Throws<InvalidDataException>(() => BranchRegistry.Run(reinit, reinit.DefaultHparams, desc, 1, 2, new RunOptions(), context));
        Assert.Contains("train the levels in order", error.Message);
        BranchRegistry.Run(reinit, reinit.DefaultHparams, desc, 1, 1, new RunOptions(), context);
        var summary = BranchRegistry.Run(reinit, reinit.DefaultHparams, desc, 1, 2, new RunOptions(), context);
        var runs = JsonNode.Parse(File.ReadAllText(Path.Combine(summary.Folder, "hparams.json")))!["repellent_loss"]!["runs"]!.AsArray();
        Assert.Equal(Path.Combine("level_1", Path.GetFileName(summary.Folder)), (string)runs.Single()!);
    }

    [Fact]
    public void Per_level_data_order_gives_each_level_its_own_seed_and_shared_keeps_level_0s()
    {
        var shared = Desc();
        var perLevel = Desc(order: LevelDataOrder.PerLevel);
        Assert.Equal(shared.RunName, new LotteryDesc(shared.Training, shared.Pruning, shared.Lottery with { LevelDataOrder = LevelDataOrder.Shared }).RunName);
        Assert.NotEqual(shared.RunName, perLevel.RunName);
        Assert.Same(shared.Training, shared.TrainingAt(3, 2));
        Assert.Equal(perLevel.Training, perLevel.TrainingAt(0, 2));
        var seeds = Enumerable.Range(1, 5).SelectMany(level => new[] { 1, 2, 3 }.Select(r => TrainingRunner.DataOrderSeed(perLevel.TrainingAt(level, r), r))).ToArray();
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        // Never the replicate seeds of level 0, nor the noise floor's (2000003 + replicate).
        Assert.DoesNotContain(seeds, s => s <= 3 || (s > RetrainHparams.NoiseFloorSeedBase && s <= RetrainHparams.NoiseFloorSeedBase + 100));

        var context = Context();
        LotteryRunner.Run(perLevel, 1, 1, new RunOptions(), context);
        var layout = LotteryRunner.Layout(context, perLevel, 1);
        int Seed(int level) => (int)JsonNode.Parse(File.ReadAllText(layout.Main(level).HparamsPath))!["data_order_seed"]!;
        Assert.Equal(1, Seed(0));
        Assert.Equal(TrainingRunner.DataOrderSeed(perLevel.TrainingAt(1, 1), 1), Seed(1));
    }

    [Fact]
    public void Bad_repellence_settings_are_refused_with_their_flag()
    {
        Assert.Equal("--repel-lambda", Assert.Throws<HparamException>(() => new LotteryHparams { RepelLambda = double.NaN }.Validate()).Flag);
        Assert.Equal("--repel-scope", Assert.Throws<HparamException>(() => new LotteryHparams { RepelScope = RepelScope.Previous }.Validate()).Flag);
        Assert.Equal("--repel-lambda", Assert.Throws<HparamException>(() => new LotteryHparams { RepelLambda = 2, OneShotSparsity = 0.5 }.Validate()).Flag);
    }

    [Fact]
    public void The_maene_presets_follow_table_1()
    {
        var lenet = Presets.Get("maene_lenet_300_100");
        Assert.Equal((OptimizerName.Adam, 1.2e-3, LrSchedule.Constant, 60, "25ep", ModelInit.KaimingUniform, "mnist"),
            (lenet.Training.OptimizerName, lenet.Training.Lr, lenet.Training.LrSchedule, lenet.Dataset.BatchSize, lenet.Training.TrainingSteps.ToString(), lenet.Model.ModelInit, lenet.Dataset.DatasetName));
        var resnet = Presets.Get("maene_resnet_20");
        Assert.Equal(("85ep", "56ep,71ep", 1e-5, 0.9, 128), (resnet.Training.TrainingSteps.ToString(), string.Join(",", resnet.Training.MilestoneSteps.Select(s => s.ToString())),
            resnet.Training.WeightDecay, resnet.Training.Momentum, resnet.Dataset.BatchSize));
        var conv4 = Presets.Get("maene_conv4_fashion");
        Assert.Equal((LrSchedule.Cosine, 0.01, "75ep", "fashion_mnist"), (conv4.Training.LrSchedule, conv4.Training.Lr, conv4.Training.TrainingSteps.ToString(), conv4.Dataset.DatasetName));
        // Every layer is pruned, the output layer included (appendix A.3).
        Assert.All(new[] { "maene_lenet_300_100", "maene_resnet_20", "maene_conv4" }, p => Assert.Equal("none", Presets.PruningOf(p).PruningLayersToIgnore));
    }
}
