using TicketLab.Analysis;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Tests.Support;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Analysis;

public sealed class ConnectivityTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public ConnectivityTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private (ImageDataset Train, ImageDataset Test) Data() => new DataSource(data).Get("mnist", null, CPU);

    private static readonly InputSpec Mnist = new(1, 28, 28, 10);

    [Fact]
    public void A_network_interpolated_with_itself_has_zero_barrier_everywhere()
    {
        var (train, test) = Data();
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "resnet_8" }, Mnist, 1);
        var state = ModelState.Snapshot(model);
        var curve = Interpolation.Run(model, state, state, null, test, train, new InterpolationOptions { Points = 7, TrainExamples = 64, BnRecalibrate = 2 });
        Assert.Equal(7, curve.Points.Count);
        Assert.All(curve.Points, p => Assert.Equal(curve.Points[0].TestError, p.TestError));
        Assert.Equal(0, curve.ErrorBarrier);
        Assert.Equal(0, curve.TrainErrorBarrier);
        Assert.Equal([0.0, 1 / 6.0, 2 / 6.0, 0.5, 4 / 6.0, 5 / 6.0, 1.0], curve.Points.Select(p => p.Alpha));
    }

    [Fact]
    public void Two_copies_with_the_same_seeds_are_bit_identical_and_their_barrier_is_exactly_zero()
    {
        var desc = TestRuns.TinyLenet("2ep");
        var a = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("a"), data));
        var b = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("b"), data));
        var w0 = TensorFile.Load(Path.Combine(a.Folder, "models", "model_final.bin"));
        var w1 = TensorFile.Load(Path.Combine(b.Folder, "models", "model_final.bin"));
        var (train, test) = Data();
        using var model = ModelRegistry.Create(desc.Model, Mnist, 1);
        var curve = Interpolation.Run(model, w0, w1, null, test, train, new InterpolationOptions { Points = 5 });
        Assert.Equal(0.0, curve.ErrorBarrier);
        Assert.Equal(0.0, curve.LossBarrier);
    }

    [Fact]
    public void Differently_initialized_conv_nets_are_separated_by_a_clear_barrier()
    {
        var desc = new TrainingDesc(
            new DatasetHparams { DatasetName = "mnist", BatchSize = 16 },
            new ModelHparams { ModelName = "conv2" },
            new TrainingHparams { OptimizerName = OptimizerName.Adam, Lr = 2e-3, TrainingSteps = StepSpec.Parse("4ep") });
        var a = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        var b = TrainingRunner.Train(desc, 2, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        Assert.True(a.FinalTestAccuracy > 0.9 && b.FinalTestAccuracy > 0.9, "both endpoints learned the task");
        var (train, test) = Data();
        using var model = ModelRegistry.Create(desc.Model, Mnist, 1);
        var curve = Interpolation.Run(model, TensorFile.Load(Path.Combine(a.Folder, "models", "model_final.bin")),
            TensorFile.Load(Path.Combine(b.Folder, "models", "model_final.bin")), null, test, train, new InterpolationOptions { Points = 11, BnRecalibrate = 2 });
        Assert.True(curve.ErrorBarrier > 0.1, $"error barrier {curve.ErrorBarrier:P1}");
        Assert.True(curve.LossBarrier > 0.1, $"loss barrier {curve.LossBarrier:F3}");
    }

    [Fact]
    public void Barrier_counts_endpoint_gaps_but_the_excess_over_the_chord_does_not()
    {
        static InterpolationCurve Curve(params double[] errors) => new(errors.Select((e, i) =>
            new InterpolationPoint((double)i / (errors.Length - 1), e, e, null, null)).ToArray());
        var monotone = Curve(0.10, 0.12, 0.14, 0.16, 0.18);
        Assert.Equal(0.04, monotone.ErrorBarrier, 12);          // max minus mean of the endpoints
        Assert.Equal(0.0, monotone.ErrorExcessOverChord, 12);   // never above the line between them
        var hump = Curve(0.10, 0.30, 0.10);
        Assert.Equal(0.20, hump.ErrorBarrier, 12);
        Assert.Equal(0.20, hump.ErrorExcessOverChord, 12);
    }

    [Fact]
    public void Distances_and_cosine_match_a_straightforward_reference()
    {
        var a = new Dictionary<string, Tensor> { ["w"] = tensor(new float[] { 1, -2, 3, 4 }).reshape(2, 2), ["v"] = tensor(new float[] { 0.5f, -1 }) };
        var b = new Dictionary<string, Tensor> { ["w"] = tensor(new float[] { 2, 2, -1, 4 }).reshape(2, 2), ["v"] = tensor(new float[] { 1, 1 }) };
        using var mask = new Mask([KeyValuePair.Create("w", tensor(new float[] { 1, 1, 0, 1 }).reshape(2, 2)), KeyValuePair.Create("v", tensor(new float[] { 1, 1 }))]);
        // Kept positions, mask order (v before w): a = [0.5, -1, 1, -2, 4], b = [1, 1, 2, 2, 4]
        double[] x = [0.5, -1, 1, -2, 4], y = [1, 1, 2, 2, 4];
        double dist = Math.Sqrt(x.Zip(y).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        double normY = Math.Sqrt(y.Sum(v => v * v)), normX = Math.Sqrt(x.Sum(v => v * v));
        var result = WeightDistances.Compute(a, b, mask);
        Assert.Equal(dist, result.L2Distance, 10);
        Assert.Equal(dist / normY, result.NormalizedL2Distance, 10);
        Assert.Equal(x.Zip(y).Sum(p => p.First * p.Second) / (normX * normY), result.CosineSimilarity, 10);
        Assert.Equal(3 / 5.0, result.SignAgreement, 10);
    }

    [Fact]
    public void Batch_norm_recalibration_changes_running_statistics_and_nothing_else()
    {
        var (train, _) = Data();
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "resnet_8" }, Mnist, 1);
        model.eval();
        var before = ModelState.Snapshot(model);
        BatchNormRecalibration.Run(model, train, batches: 3, batchSize: 32);
        var after = ModelState.Snapshot(model);
        int changedStatistics = 0;
        foreach (var (name, value) in before)
        {
            bool same = value.eq(after[name]).all().item<bool>();
            if (name.EndsWith("running_mean") || name.EndsWith("running_var")) changedStatistics += same ? 0 : 1;
            else if (!name.EndsWith("num_batches_tracked")) Assert.True(same, $"{name} changed");
        }
        Assert.Equal(before.Keys.Count(k => k.EndsWith("running_mean") || k.EndsWith("running_var")), changedStatistics);
        Assert.False(model.training);
        Assert.All(model.modules().OfType<TorchSharp.Modules.BatchNorm2d>(), bn => Assert.Equal(0.1, bn.momentum));
    }

    [Fact]
    public void Masked_interpolation_keeps_pruned_weights_at_zero()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_30" }, Mnist, 1);
        using var other = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_30" }, Mnist, 2);
        var w0 = ModelState.Snapshot(model);
        var w1 = ModelState.Snapshot(other);
        var prunable = w0.Where(p => model.PrunableParameterNames.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        using var dense = Mask.Ones(model);
        using var mask = new SparseGlobalPruning().Prune(prunable, dense, new PruningRates(0.5, new HashSet<string>(), new Dictionary<string, double>()));
        var masks = mask.Names.ToDictionary(n => n, n => mask[n]);
        foreach (double alpha in new[] { 0.0, 0.3, 1.0 })
        {
            Interpolation.SetInterpolated(model.state_dict(), w0, w1, masks, alpha);
            foreach (var name in mask.Names)
            {
                var weight = model.NamedParameterMap()[name];
                Assert.Equal(0f, weight.mul(mask[name].logical_not()).abs().sum().item<float>());
                var expected = ((1 - alpha) * w0[name] + alpha * w1[name]) * mask[name];
                Assert.True(weight.allclose(expected, rtol: 1e-5, atol: 1e-6), $"{name} at {alpha}");
            }
        }
    }

    [Fact]
    public void Instability_analysis_stores_its_parts_and_reuses_them()
    {
        var desc = TestRuns.TinyLenet("2ep");
        var context = TestRuns.Context(temp.Combine("store"), data);
        var start = InstabilityStart.FromTraining(desc, StepSpec.Parse("4it"));
        var options = new InterpolationOptions { Points = 5 };
        var first = InstabilityAnalysis.Run(start, 1, options, new RunOptions(), context);
        Assert.True(File.Exists(Path.Combine(first.Folder, "parent", "summary.json")));
        var parentState = TensorFile.Load(Path.Combine(first.Folder, "parent", "models", "model_final.bin"));
        var copyStart = TensorFile.Load(Path.Combine(first.Folder, "copy_a", "models", "model_ep0_it4.bin"));
        foreach (var (name, value) in parentState) Assert.True(value.eq(copyStart[name]).all().item<bool>(), name);
        Assert.True(first.Curve.ErrorBarrier >= 0);
        Assert.True(first.AccuracyA > 0.5);

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "copy_a", "summary.json"));
        var again = InstabilityAnalysis.Run(start, 1, options, new RunOptions(), context);
        Assert.Equal(first.Curve.ErrorBarrier, again.Curve.ErrorBarrier);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "copy_a", "summary.json")));

        // A new interpolation grid reuses the trained copies.
        var finer = InstabilityAnalysis.Run(start, 1, options with { Points = 9 }, new RunOptions(), context);
        Assert.Equal(9, finer.Curve.Points.Count);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "copy_a", "summary.json")));
    }

    [Fact]
    public void Instability_of_a_lottery_level_keeps_its_mask_and_compare_reports_every_pair()
    {
        var lottery = new LotteryDesc(TestRuns.TinyLenet("2ep"), new PruningHparams(), new LotteryHparams());
        var context = TestRuns.Context(temp.Combine("store"), data);
        LotteryRunner.Run(lottery, 1, 2, new RunOptions(), context);
        var result = InstabilityAnalysis.Run(InstabilityStart.FromLottery(lottery, 2), 1, new InterpolationOptions { Points = 3 }, new RunOptions(), context);
        using var mask = Mask.Load(LotteryRunner.Layout(context, lottery, 1).MaskPath(2));
        var final = TensorFile.Load(Path.Combine(result.Folder, "copy_b", "models", "model_final.bin"));
        foreach (var name in mask.Names) Assert.Equal(0f, final[name].mul(mask[name].logical_not()).abs().sum().item<float>());

        var rows = TicketLab.Experiments.LevelAnalyses.CompareAnalysis.Run(lottery, 1, [1, 2], new ComparisonOptions { Interpolation = new InterpolationOptions { Points = 3 } },
            new RunOptions(), context);
        Assert.Equal([1, 2], rows.Select(r => r.Level));
        Assert.Equal([TicketComparison.TP, TicketComparison.RP, TicketComparison.TT2, TicketComparison.TD, TicketComparison.RD], rows[1].Pairs.Select(p => p.Name));
        Assert.Equal(["T", "P", "R", "T2", "D"], rows[1].Networks.Select(n => n.Role));
        // Rewound to initialization, the ticket starts where the dense network started (on its mask).
        Assert.Equal(0, rows[1].Pair(TicketComparison.TD)!.Start.L2Distance, 6);
        Assert.True(rows[1].Pair(TicketComparison.RD)!.Start.L2Distance > 0);
        Assert.NotEqual(Answer.Inconclusive, rows[1].SameRegion().Answer);
    }

    [Fact]
    public void Barriers_are_derived_numbers__stored_as_0_2451_not_float_noise()
    {
        // 0.4451 - 0.2 is 0.24509999999999998 in doubles; results.csv and compare's JSON must hold 0.2451.
        Assert.Equal("0.2451", DataNumbers.Format(InterpolationCurve.Barrier([0.2, 0.4451, 0.2])));
        Assert.Equal("0.2451", DataNumbers.Format(InterpolationCurve.ExcessOverChord([0, 0.5, 1], [0.2, 0.4451, 0.2])));
    }
}
