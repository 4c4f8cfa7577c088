using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;

namespace TicketLab.Tests.Api;

public sealed class LabTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly TrainingDesc recipe;

    public LabTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        recipe = new TrainingDesc(new DatasetHparams { DatasetName = "mnist", BatchSize = 32 }, new ModelHparams { ModelName = "lenet_32_16" },
            new TrainingHparams { Lr = 0.05, Momentum = 0.9, TrainingSteps = StepSpec.Parse("2ep") });
    }

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Training_in_memory_gives_the_store_runners_weights_bit_for_bit()
    {
        var lab = new Lab(data);
        using var network = lab.Train(recipe, seed: 3);
        var context = new RunContext { Store = new ExperimentStore(temp.Combine("store")), Data = new DataSource(data) };
        var summary = TrainingRunner.Train(recipe, 3, new RunOptions(), context);
        var stored = TensorFile.Load(Path.Combine(summary.Folder, "models", "model_final.bin"));
        Assert.Equal(stored.Keys.Order(), network.Weights.Keys.Order());
        foreach (var (name, tensor) in stored) Assert.True(tensor.eq(network.Weights[name]).all().item<bool>(), name);
        Assert.Equal(summary.FinalTestAccuracy, network.TestAccuracy);
        Assert.Contains(network.Metrics, m => m.Name == "test_accuracy" && m.Step == 0);
    }

    [Fact]
    public void Prune_rewind_retrain_keeps_pruned_weights_at_zero_and_the_survivors_start_from_initialization()
    {
        var lab = new Lab(data);
        var pruning = new PruningHparams { PruningFraction = 0.5 };
        using var dense = lab.Train(recipe, seed: 1);
        using var mask = lab.Prune(dense, pruning);
        Assert.InRange(mask.Density, 0.49, 0.52); // half of the prunable weights
        var rewound = lab.Rewind(dense, mask);
        using var ticket = lab.Train(recipe, seed: 1, mask: mask, start: rewound, keep: [StepSpec.Parse("1ep")]);
        var initial = dense.StateAt(StepSpec.Parse("0it"));
        foreach (var name in mask.Names)
        {
            var pruned = mask[name].logical_not();
            Assert.Equal(0f, ticket.Weights[name].mul(pruned).abs().sum().item<float>());
            Assert.True(ticket.StateAt(StepSpec.Parse("0it"))[name].eq(initial[name].mul(mask[name])).all().item<bool>(), $"{name} starts from its initialization");
        }
        Assert.NotNull(ticket.StateAt(StepSpec.Parse("1ep")));
        Assert.Throws<ArgumentException>(() => ticket.StateAt(StepSpec.Parse("1ep1it")));

        // Layerwise pruning prunes each tensor by the fraction; LeNet's output layer stays dense by default.
        using var layerwise = lab.Prune(dense, pruning with { PruningStrategy = "sparse_layerwise" });
        foreach (var name in layerwise.Names)
            Assert.InRange((double)layerwise.Remaining(name) / layerwise.Total(name), name == "fc.weight" ? 1 : 0.49, name == "fc.weight" ? 1 : 0.51);
        // The next level prunes what the ticket kept.
        using var next = lab.Prune(ticket, pruning);
        Assert.InRange(next.Density, 0.24, 0.26);
    }

    [Fact]
    public void Interpolating_a_network_with_itself_is_flat_and_its_endpoints_are_the_networks_accuracy()
    {
        var lab = new Lab(data);
        using var a = lab.Train(recipe, seed: 1);
        using var b = lab.Train(recipe with { Training = recipe.Training with { DataOrderSeed = 9 } }, seed: 1);
        var self = lab.Interpolate(a, a, new InterpolationOptions { Points = 3 });
        Assert.Equal(0, self.ErrorBarrier, 9);
        Assert.Equal(1 - a.TestAccuracy, self.Points[0].TestError, 9);
        var curve = lab.Interpolate(a, b, new InterpolationOptions { Points = 5 });
        Assert.Equal(1 - b.TestAccuracy, curve.Points[^1].TestError, 9);
        Assert.Equal(0, lab.Distance(a, a).L2Distance, 9);
        Assert.True(lab.Distance(a, b).L2Distance > 0);
    }
}
