using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Pruning;

public sealed class PruningTests
{
    private static readonly string[] Names = ["a.weight", "b.weight", "c.weight"];

    private static Dictionary<string, Tensor> RandomWeights(int seed, bool withTies)
    {
        using var generator = new Generator((ulong)seed);
        var shapes = new long[][] { [7, 5], [11], [3, 4, 2] };
        return Names.Zip(shapes).ToDictionary(p => p.First, p =>
        {
            var w = randn(p.Second, generator: generator);
            // Rounding to a coarse grid makes many magnitudes equal, including across tensors.
            return withTies ? (w * 2).round() / 2 : w;
        });
    }

    private static Mask RandomMask(Dictionary<string, Tensor> weights, int seed)
    {
        using var generator = new Generator((ulong)seed + 100);
        return new Mask(weights.ToDictionary(p => p.Key, p => (rand(p.Value.shape, generator: generator) > 0.3).to_type(ScalarType.Float32)));
    }

    /// <summary>Straightforward reference: list every alive weight, sort by (|w|, tensor order, flat index), prune the first k.</summary>
    private static HashSet<(string, long)> ReferencePruned(IReadOnlyDictionary<string, Tensor> weights, Mask mask, IEnumerable<string> names, double fraction)
    {
        var alive = new List<(double Magnitude, int Tensor, long Index, string Name)>();
        int t = 0;
        foreach (var name in names)
        {
            var values = weights[name].abs().flatten().data<float>().ToArray();
            var keep = mask[name].flatten().data<float>().ToArray();
            for (long i = 0; i < values.Length; i++) if (keep[i] == 1) alive.Add((values[i], t, i, name));
            t++;
        }
        long count = (long)Math.Ceiling(fraction * alive.Count - 1e-9);
        return alive.OrderBy(a => a.Magnitude).ThenBy(a => a.Tensor).ThenBy(a => a.Index).Take((int)count).Select(a => (a.Name, a.Index)).ToHashSet();
    }

    private static HashSet<(string, long)> NewlyPruned(Mask before, Mask after, IEnumerable<string> names)
    {
        var result = new HashSet<(string, long)>();
        foreach (var name in names)
        {
            var b = before[name].flatten().data<float>().ToArray();
            var a = after[name].flatten().data<float>().ToArray();
            for (long i = 0; i < b.Length; i++)
            {
                Assert.False(b[i] == 0 && a[i] == 1, "a pruned weight came back");
                if (b[i] == 1 && a[i] == 0) result.Add((name, i));
            }
        }
        return result;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void Global_pruning_matches_the_sorted_reference_ties_included(int seed, bool ties)
    {
        var weights = RandomWeights(seed, ties);
        using var mask = RandomMask(weights, seed);
        var rates = new PruningRates(0.37, new HashSet<string>(), new Dictionary<string, double>());
        using var pruned = new SparseGlobalPruning().Prune(weights, mask, rates);
        var expected = ReferencePruned(weights, mask, Names, 0.37);
        Assert.Equal(expected, NewlyPruned(mask, pruned, Names));
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(5, true)]
    public void Layerwise_pruning_matches_the_reference_in_each_tensor(int seed, bool ties)
    {
        var weights = RandomWeights(seed, ties);
        using var mask = RandomMask(weights, seed);
        var rates = new PruningRates(0.2, new HashSet<string>(), new Dictionary<string, double>());
        using var pruned = new SparseLayerwisePruning().Prune(weights, mask, rates);
        foreach (var name in Names)
            Assert.Equal(ReferencePruned(weights, mask, [name], 0.2), NewlyPruned(mask, pruned, [name]));
    }

    [Fact]
    public void Ignored_tensors_stay_and_an_output_rate_applies_on_its_own()
    {
        var weights = RandomWeights(6, withTies: true);
        using var dense = new Mask(weights.ToDictionary(p => p.Key, p => ones_like(p.Value)));
        var rates = new PruningRates(0.5, new HashSet<string> { "b.weight" }, new Dictionary<string, double> { ["c.weight"] = 0.25 });
        using var pruned = new SparseGlobalPruning().Prune(weights, dense, rates);
        Assert.Equal(pruned.Total("b.weight"), pruned.Remaining("b.weight"));
        Assert.Equal(24 - (long)Math.Ceiling(0.25 * 24), pruned.Remaining("c.weight"));
        Assert.Equal(ReferencePruned(weights, dense, ["a.weight"], 0.5), NewlyPruned(dense, pruned, ["a.weight"]));
    }

    [Fact]
    public void Exactly_the_requested_number_is_pruned_when_every_magnitude_ties()
    {
        var weights = new Dictionary<string, Tensor> { ["w.weight"] = full(new long[] { 10, 10 }, 0.5f) };
        using var mask = new Mask(weights.ToDictionary(p => p.Key, p => ones_like(p.Value)));
        using var pruned = new SparseGlobalPruning().Prune(weights, mask, new PruningRates(0.2, new HashSet<string>(), new Dictionary<string, double>()));
        Assert.Equal(80, pruned.RemainingWeights);
        // Ties go to the lowest indices.
        Assert.Equal(0f, pruned["w.weight"].flatten()[19].item<float>());
        Assert.Equal(1f, pruned["w.weight"].flatten()[20].item<float>());
    }

    [Fact]
    public void Mask_rejects_non_binary_values_and_round_trips_through_its_files()
    {
        Assert.Throws<ArgumentException>(() => new Mask([KeyValuePair.Create("x", tensor(new float[] { 0, 0.5f, 1 }))]));
        using var temp = new Support.TempFolder();
        var weights = RandomWeights(7, false);
        using var mask = RandomMask(weights, 7);
        mask.Save(temp.Combine("mask.bin"), temp.Combine("mask.json"));
        using var back = Mask.Load(temp.Combine("mask.bin"));
        foreach (var name in Names) Assert.True(mask[name].eq(back[name]).all().item<bool>());
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(temp.Combine("mask.json")))!;
        Assert.Equal(mask.RemainingWeights, (long)summary["remaining"]!);
        Assert.Equal(mask.Remaining("b.weight"), (long)summary["tensors"]!["b.weight"]!["remaining"]!);
    }

    [Fact]
    public void Masked_weights_stay_zero_under_momentum_weight_decay_and_adam()
    {
        foreach (var optimizerName in new[] { OptimizerName.Sgd, OptimizerName.Adam })
        {
            using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_30_20" }, new InputSpec(1, 28, 28, 10), 3);
            var weights = model.NamedParameterMap().Where(p => model.PrunableParameterNames.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
            using var dense = Mask.Ones(model);
            using var mask = new SparseGlobalPruning().Prune(weights, dense, new PruningRates(0.6, new HashSet<string>(), new Dictionary<string, double>()));
            var constraint = new MaskConstraint(model, mask);
            using var optimizer = TicketLab.Training.OptimizerFactory.Create(
                new TrainingHparams { OptimizerName = optimizerName, Lr = 0.05, Momentum = optimizerName == OptimizerName.Sgd ? 0.9 : 0, WeightDecay = 0.01 }, model.parameters());
            constraint.Apply();
            var before = model.NamedParameterMap().ToDictionary(p => p.Key, p => p.Value.detach().clone());
            for (int step = 0; step < 50; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(randn(16, 1, 28, 28)), randint(0, 10, 16)).backward();
                constraint.BeforeOptimizerStep();
                foreach (var name in mask.Names) // gradients of pruned weights are gone before the step
                    Assert.Equal(0f, model.NamedParameterMap()[name].grad!.mul(mask[name].logical_not()).abs().sum().item<float>());
                optimizer.step();
            }
            foreach (var name in mask.Names)
            {
                var weight = model.NamedParameterMap()[name];
                Assert.Equal(0f, weight.mul(mask[name].logical_not()).abs().sum().item<float>());
                Assert.True(weight.ne(before[name]).logical_and(mask[name].to_type(ScalarType.Bool)).any().item<bool>(), "surviving weights train");
            }
        }
    }
}
