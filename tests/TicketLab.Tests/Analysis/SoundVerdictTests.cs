using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Analysis;

/// <summary>Each defect of issue 9, as a test that failed on the code before it: verdicts, controls, sweeps, recipes.</summary>
public sealed class SoundVerdictTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public SoundVerdictTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static InterpolationCurve Flat(double barrier) =>
        new([new(0, 0.1, 0.3, null, null), new(0.5, 0.1 + barrier, 0.4, null, null), new(1, 0.1, 0.3, null, null)]);

    private static WeightDistances Distance(double l2) => new(l2, 10, 0.9, 0.8);

    private static PairComparison Pair(string name, double barrier, double startL2 = 5, double endL2 = 2, double travel = 4) =>
        new(name, Distance(startL2), Distance(endL2), travel, travel, 0.05, 0.9, 0.88, 0.89, Flat(barrier));

    private static LevelComparison Level(params PairComparison[] pairs) => new(3, 0.5, 0.3, 0.12, [], pairs);

    [Fact]
    public void Same_basin_is_inconclusive_when_the_noise_floor_alone_exceeds_the_threshold()
    {
        var noisy = Level(Pair(TicketComparison.TP, 0.01), Pair(TicketComparison.TT2, 0.038), Pair(TicketComparison.RP, 0.2));
        var verdict = noisy.SameBasin(0.02);
        Assert.Equal(Answer.Inconclusive, verdict.Answer);
        Assert.Contains("noise floor T-T2 3.80 pts", verdict.Evidence);
        Assert.Contains("threshold 2.00 pts", verdict.Evidence);

        Assert.Equal(Answer.Yes, Level(Pair(TicketComparison.TP, 0.01), Pair(TicketComparison.TT2, 0.005)).SameBasin(0.02).Answer);
        Assert.Equal(Answer.No, Level(Pair(TicketComparison.TP, 0.05), Pair(TicketComparison.TT2, 0.005)).SameBasin(0.02).Answer);
    }

    [Fact]
    public void Same_region_is_not_decided_by_the_initializations()
    {
        // Where the networks start relative to P plays no part (the old rule's "closer than at the
        // start" held by construction): the same ends give the same verdict, judged by how far T
        // travelled from its own start and by the scratch control.
        static WeightDistances Angle(double angle) => new(1, 10, Math.Cos(angle * Math.PI / 2), 0.8);
        static PairComparison Ended(string name, double startL2, double angle) =>
            new(name, new(startL2, 10, 0.99, 0.9), Angle(angle), 4, 4, 0.05, 0.9, 0.88, 0.89, Flat(0), 0.5, 0.5);
        var close = Level(Ended(TicketComparison.TP, 0.1, 0.3), Ended(TicketComparison.RP, 9, 0.9), Ended(TicketComparison.TT2, 0, 0.1));
        var far = Level(Ended(TicketComparison.TP, 8, 0.3), Ended(TicketComparison.RP, 9, 0.9), Ended(TicketComparison.TT2, 0, 0.1));
        Assert.Equal(Answer.Yes, close.SameRegion().Answer);
        Assert.Equal((close.SameRegion().Answer, close.SameRegion().Evidence), (far.SameRegion().Answer, far.SameRegion().Evidence));
        Assert.Contains("T-P 0.300, noise floor T-T2 0.100", close.SameRegion().Evidence);
    }

    [Fact]
    public void The_far_endpoint_is_the_fine_tuned_pruning_solution_not_the_masked_dense_network()
    {
        // Steep pruning makes the previous level's network, masked, much worse than after fine-tuning on the mask.
        var lottery = new LotteryDesc(TestRuns.TinyLenet("2ep"), new PruningHparams { PruningFraction = 0.9 }, new LotteryHparams());
        var context = TestRuns.Context(temp.Combine("store"), data);
        LotteryRunner.Run(lottery, 1, 2, new RunOptions(), context);
        var options = new ComparisonOptions { Interpolation = new InterpolationOptions { Points = 3 } };
        var row = TicketLab.Experiments.LevelAnalyses.CompareAnalysis.Run(lottery, 1, [2], options, new RunOptions(), context).Single();

        Assert.True(row.PruningSolutionErrorBefore > row.PruningSolutionErrorAfter + 0.05,
            $"masked {row.PruningSolutionErrorBefore:P1} vs fine-tuned {row.PruningSolutionErrorAfter:P1}");
        var tp = row.Pair(TicketComparison.TP)!;
        Assert.Equal(row.PruningSolutionErrorAfter, tp.Curve.Points[^1].TestError, 9);
        Assert.Equal(1 - tp.AccuracyA, tp.Curve.Points[0].TestError, 9);
        // P is a run of its own, labelled as what it is.
        var p = row.Networks.Single(n => n.Role == "P");
        Assert.Contains("pruning_solution_", p.Folder);
        Assert.Contains("fine-tuned 2ep", p.Description);
        Assert.Throws<HparamException>(() => TicketLab.Experiments.LevelAnalyses.CompareAnalysis.Run(lottery, 1, [0], options, new RunOptions(), context));
    }

    [Fact]
    public void Controls_draw_independently_for_each_replicate_and_record_the_seed()
    {
        var lottery = new LotteryDesc(TestRuns.TinyLenet("1ep"), new PruningHparams { PruningFraction = 0.5 }, new LotteryHparams());
        var context = TestRuns.Context(temp.Combine("store"), data);
        var reinit = new List<TrainingSummary>();
        var pruneMasks = new List<Mask>();
        foreach (int replicate in new[] { 1, 2 })
        {
            LotteryRunner.Run(lottery, replicate, 1, new RunOptions(), context);
            reinit.Add(BranchRegistry.Run(BranchRegistry.Get("random_reinit"), new RandomReinitHparams(), lottery, replicate, 1, new RunOptions(), context));
            var prune = BranchRegistry.Run(BranchRegistry.Get("random_prune"), new RandomPruneHparams(), lottery, replicate, 1, new RunOptions(), context);
            pruneMasks.Add(Mask.Load(Path.Combine(prune.Folder, "mask.bin")));
        }
        var start0 = TensorFile.Load(new RunFolder(reinit[0].Folder).ModelPath(Step.Zero(8)));
        var start1 = TensorFile.Load(new RunFolder(reinit[1].Folder).ModelPath(Step.Zero(8)));
        Assert.False(start0["fc_layers.0.weight"].eq(start1["fc_layers.0.weight"]).all().item<bool>(), "replicates must not share the control's initialization");
        double agreement = pruneMasks[0]["fc_layers.0.weight"].eq(pruneMasks[1]["fc_layers.0.weight"]).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(agreement, 0.3, 0.7); // two independent masks keeping half agree about half the time

        var seeds = reinit.Select(r => (int)JsonNode.Parse(File.ReadAllText(Path.Combine(r.Folder, "hparams.json")))!["branch"]!["seed_used"]!).ToArray();
        Assert.Equal([BranchSeeds.Derive(1, 1), BranchSeeds.Derive(1, 2)], seeds);
    }

    [Fact]
    public void Sweep_and_rewind_steps_at_or_past_the_end_are_refused_before_anything_trains()
    {
        var desc = TestRuns.TinyLenet("2ep");
        var context = TestRuns.Context(temp.Combine("store"), data);
        var error = Assert.Throws<HparamException>(() => RewindSweep.Run(desc, [StepSpec.Parse("0it"), StepSpec.Parse("2ep")], [1],
            new InterpolationOptions { Points = 3 }, new RunOptions(), context));
        Assert.Contains("--steps", error.Message);
        var lottery = new LotteryDesc(desc, new PruningHparams(), new LotteryHparams { RewindStep = StepSpec.Parse("3ep") });
        Assert.Contains("--rewind-step", Assert.Throws<HparamException>(() => LotteryRunner.Run(lottery, 1, 2, new RunOptions(), context)).Message);
        Assert.False(Directory.Exists(context.Store.Root) && Directory.EnumerateFileSystemEntries(context.Store.Root).Any(), "nothing trained");
    }

    [Fact]
    public void A_sweep_trains_one_parent_per_replicate_and_names_its_file_by_every_setting()
    {
        var desc = TestRuns.TinyLenet("2ep");
        var context = TestRuns.Context(temp.Combine("store"), data);
        var steps = new[] { StepSpec.Parse("0it"), StepSpec.Parse("4it"), StepSpec.Parse("1ep") };
        var rows = RewindSweep.Run(desc, steps, [1], new InterpolationOptions { Points = 3 }, new RunOptions(), context);
        Assert.Equal(3, rows.Count);
        Assert.Single(Directory.GetDirectories(context.Store.Root, "rewind_parent_*"));
        Assert.Empty(Directory.GetDirectories(context.Store.Root, "parent", SearchOption.AllDirectories));
        var names = new[]
        {
            RewindSweep.FileName(desc, steps, 1, new InterpolationOptions()),
            RewindSweep.FileName(desc, steps, 1, new InterpolationOptions { Points = 10 }),
            RewindSweep.FileName(desc, steps, 1, new InterpolationOptions { BnRecalibrate = 0 }),
            RewindSweep.FileName(desc, steps, 1, new InterpolationOptions { TestExamples = 100 }),
            RewindSweep.FileName(desc, steps, 2, new InterpolationOptions()),
        };
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void Instability_prints_both_endpoint_errors_the_rise_above_the_chord_and_its_threshold()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = TicketLab.Cli.CliApp.Run(["instability", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--training-steps", "1ep",
            "--data-dir", data, "--root", temp.Combine("store"), "--quiet", "--points", "3", "--stability-threshold", "0.03"],
            TicketLab.Cli.CliEnvironment.ForTests(stdout, stderr));
        Assert.True(code == 0, stderr.ToString());
        string output = stdout.ToString();
        Assert.Contains("rise above chord", output);
        Assert.Contains("stable (barrier < 3.00 %)", output);
        Assert.Contains("start 0it, replicate 1: error barrier", output);
        Assert.Contains("endpoint errors", output);
    }

    private static TicketModel Lenet() => ModelRegistry.Create(new ModelHparams { ModelName = "lenet_300_100" }, new InputSpec(1, 28, 28, 10), 1);

    [Fact]
    public void An_output_layer_rate_is_applied_or_refused_never_ignored()
    {
        using var model = Lenet();
        var refused = Assert.Throws<HparamException>(() => PruningRates.From(new PruningHparams { PruningOutputLayerFraction = 0.1 }, model, 0.2));
        Assert.Contains("--pruning-output-layer-fraction", refused.Message);
        Assert.Contains("fc.weight is left dense", refused.Message);

        var rates = PruningRates.From(new PruningHparams { PruningOutputLayerFraction = 0.1, PruningLayersToIgnore = "none" }, model, 0.2);
        using var ones = Mask.Ones(model);
        using var next = new SparseGlobalPruning().Prune(model.NamedParameterMap(), ones, rates);
        long total = ones.Total("fc.weight");
        Assert.Equal(total - (long)Math.Ceiling(0.1 * total), next.Remaining("fc.weight"));
        Assert.Contains("fc.weight", rates.Describe(model));
        Assert.Contains("0.1 per level (own rate", rates.Describe(model));

        // And a lottery refuses it before level 0 trains.
        var lottery = new LotteryDesc(TestRuns.TinyLenet("1ep"), new PruningHparams { PruningOutputLayerFraction = 0.1 }, new LotteryHparams());
        var context = TestRuns.Context(temp.Combine("store"), data);
        Assert.Throws<HparamException>(() => LotteryRunner.Run(lottery, 1, 1, new RunOptions(), context));
        Assert.False(Directory.Exists(context.Store.Root) && Directory.EnumerateFileSystemEntries(context.Store.Root).Any());
    }

    [Fact]
    public void Frankle_and_carbin_conv_rates_prune_each_layer_kind_at_its_own_rate()
    {
        var pruning = Presets.PruningOf("frankle_carbin_conv6");
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "conv6" }, new InputSpec(3, 32, 32, 10), 1);
        var rates = PruningRates.From(pruning, model, pruning.PruningFraction);
        using var ones = Mask.Ones(model);
        using var next = PruningStrategyRegistry.Get(pruning.PruningStrategy).Prune(model.NamedParameterMap(), ones, rates);
        var parameters = model.NamedParameterMap();
        foreach (var name in model.PrunableParameterNames)
        {
            double rate = name == $"{model.OutputLayerName}.weight" ? 0.1 : parameters[name].dim() == 4 ? 0.15 : 0.2;
            long total = ones.Total(name);
            Assert.Equal(total - (long)Math.Ceiling(rate * total - 1e-9), next.Remaining(name));
        }
        Assert.Equal(ModelInit.Xavier, Presets.Get("frankle_carbin_conv6").Model.ModelInit);
    }

    [Fact]
    public void Openlth_count_rule_counts_ignored_layers_and_prunes_one_more_plus_ties()
    {
        var weights = new Dictionary<string, Tensor>
        {
            ["a"] = tensor(new float[] { 1, 2, 3, 4, 5, 5, 7, 8, 9, 10 }),
            ["b"] = tensor(new float[] { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }),
        };
        using var ones = new Mask(weights.Select(p => KeyValuePair.Create(p.Key, ones_like(p.Value))));
        var ignored = new HashSet<string> { "b" };
        using var exact = new SparseGlobalPruning().Prune(weights, ones, new PruningRates(0.2, ignored, new Dictionary<string, double>()));
        using var openlth = new SparseGlobalPruning().Prune(weights, ones, new PruningRates(0.2, ignored, new Dictionary<string, double>(), PruningCountRule.Openlth));
        Assert.Equal(8, exact.Remaining("a"));   // ceil(0.2 x 10) = 2 pruned
        Assert.Equal(4, openlth.Remaining("a")); // n = ceil(0.2 x 20) = 4; |w| <= sorted[4] = 5 pruned: 1, 2, 3, 4, 5, 5
        Assert.Equal(10, openlth.Remaining("b"));
    }
}
