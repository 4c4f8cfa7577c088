using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Tests.Training;

/// <summary>FlatSgd must give TorchSharp's SGD's values exactly, whatever happens to the parameters between steps.</summary>
public sealed class FlatSgdTests
{
    private static TicketModel NewModel() => ModelRegistry.Create(new ModelHparams { ModelName = "resnet_8" }, new InputSpec(3, 8, 8, 10), 5);

    /// <summary>Trains <paramref name="steps"/> steps on fixed random batches (grads set to none before each).</summary>
    private static void Train(TicketModel model, OptimizerHelper optimizer, int steps, int seed)
    {
        var generator = new Generator((ulong)seed);
        model.train();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            OptimizerFactory.ClearGradients(optimizer);
            var images = randn([8, 3, 8, 8], generator: generator);
            var labels = randint(0, 10, [8], generator: generator);
            nn.functional.cross_entropy(model.forward(images), labels).backward();
            optimizer.step();
        }
    }

    /// <summary>Two identical models, one trained by TorchSharp's SGD and one by FlatSgd with the same settings.</summary>
    private sealed class Twins : IDisposable
    {
        public readonly TicketModel Reference = NewModel(), Flat = NewModel();
        public readonly OptimizerHelper Sgd, FlatSgd;

        public Twins(double momentum, double weightDecay, bool nesterov = false)
        {
            Sgd = optim.SGD(Reference.parameters(), 0.1, momentum: momentum, weight_decay: weightDecay, nesterov: nesterov);
            FlatSgd = new FlatSgd(Flat.parameters(), 0.1, momentum, weightDecay, nesterov);
        }

        public void Train(int steps, int seed)
        {
            FlatSgdTests.Train(Reference, Sgd, steps, seed);
            FlatSgdTests.Train(Flat, FlatSgd, steps, seed);
        }

        public void AssertSame() => AssertSameParameters(Reference, Flat);

        public void Dispose()
        {
            Sgd.Dispose(); FlatSgd.Dispose(); Reference.Dispose(); Flat.Dispose();
        }
    }

    private static void AssertSameParameters(TicketModel expected, TicketModel actual)
    {
        var actualMap = actual.NamedParameterMap();
        foreach (var (name, parameter) in expected.NamedParameterMap())
            Assert.True(parameter.eq(actualMap[name]).all().item<bool>(), $"{name} differs by up to {(parameter - actualMap[name]).abs().max().item<float>()} (largest value {parameter.abs().max().item<float>()})");
    }

    [Theory]
    [InlineData(0.9, 1e-4, false)]
    [InlineData(0.9, 5e-4, true)]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.0, 1e-3, false)]
    public void Gives_the_values_of_TorchSharps_SGD_bit_for_bit(double momentum, double weightDecay, bool nesterov)
    {
        using var twins = new Twins(momentum, weightDecay, nesterov);
        twins.Train(6, seed: 1);
        twins.AssertSame();
        using var untrained = NewModel();
        Assert.False(twins.Reference.NamedParameterMap().First().Value.eq(untrained.NamedParameterMap().First().Value).all().item<bool>(), "the parameters trained");
    }

    [Fact]
    public void Follows_learning_rate_changes()
    {
        using var twins = new Twins(0.9, 1e-4);
        foreach (double lr in new[] { 0.1, 0.01, 0.3 })
        {
            OptimizerFactory.SetLearningRate(twins.Sgd, lr);
            OptimizerFactory.SetLearningRate(twins.FlatSgd, lr);
            twins.Train(2, seed: (int)(lr * 100));
        }
        twins.AssertSame();
    }

    [Fact]
    public void Checkpoints_written_by_either_resume_in_either_exactly_like_an_uninterrupted_SGD_run()
    {
        using var temp = new TicketLab.Tests.Support.TempFolder();
        string path = temp.Combine("checkpoint.bin");
        var header = new CheckpointHeader(new Step(3, 100), 0, [], "a run");
        using var uninterrupted = NewModel();
        using (var sgd = optim.SGD(uninterrupted.parameters(), 0.1, momentum: 0.9, weight_decay: 1e-4))
        {
            Train(uninterrupted, sgd, 3, seed: 2);
            Train(uninterrupted, sgd, 3, seed: 3);
        }
        using (var first = NewModel())
        using (var flatSgd = new FlatSgd(first.parameters(), 0.1, 0.9, 1e-4, false))
        {
            Train(first, flatSgd, 3, seed: 2);
            Checkpoint.Save(path, header, first, flatSgd);
        }
        // A checkpoint written by plain SGD (TicketLab before FlatSgd), for FlatSgd to resume.
        string oldPath = temp.Combine("checkpoint-sgd.bin");
        using (var first = NewModel())
        using (var sgd = optim.SGD(first.parameters(), 0.1, momentum: 0.9, weight_decay: 1e-4))
        {
            Train(first, sgd, 3, seed: 2);
            Checkpoint.Save(oldPath, header, first, sgd);
        }
        // FlatSgd's file resumed with FlatSgd (the loaded momentum buffers are gathered into its flat
        // buffer) and with plain SGD (it is SGD's format); plain SGD's file resumed with FlatSgd.
        foreach (var (file, optimizerFor) in new (string, Func<TicketModel, OptimizerHelper>)[]
                 {
                     (path, m => new FlatSgd(m.parameters(), 0.1, 0.9, 1e-4, false)),
                     (path, m => optim.SGD(m.parameters(), 0.1, momentum: 0.9, weight_decay: 1e-4)),
                     (oldPath, m => new FlatSgd(m.parameters(), 0.1, 0.9, 1e-4, false)),
                 })
        {
            using var resumed = NewModel();
            using var optimizer = optimizerFor(resumed);
            Checkpoint.Load(file, resumed, optimizer, new Step(0, 100), new Step(10, 100), "a run");
            Train(resumed, optimizer, 3, seed: 3);
            AssertSameParameters(uninterrupted, resumed);
        }
    }

    [Fact]
    public void A_parameter_given_new_storage_after_construction_still_trains()
    {
        using var twins = new Twins(0.9, 0);
        twins.Train(2, seed: 4);
        using (no_grad())
            foreach (var parameter in twins.Flat.parameters()) parameter.set_(parameter.clone()); // storage of its own
        twins.Train(2, seed: 5);
        twins.AssertSame();
    }

    [Fact]
    public void A_parameter_without_gradient_is_left_alone_as_SGD_leaves_it()
    {
        using var twins = new Twins(0.9, 1e-2);
        twins.Train(2, seed: 6);
        var frozen = twins.Flat.NamedParameterMap().Keys.First();
        var before = twins.Flat.NamedParameterMap()[frozen].detach().clone();
        foreach (var (model, optimizer) in new[] { (twins.Reference, twins.Sgd), (twins.Flat, twins.FlatSgd) })
        {
            using var scope = NewDisposeScope();
            OptimizerFactory.ClearGradients(optimizer);
            var images = randn([8, 3, 8, 8], generator: new Generator(7));
            nn.functional.cross_entropy(model.forward(images), randint(0, 10, [8], generator: new Generator(8))).backward();
            model.NamedParameterMap()[frozen].grad = null;
            optimizer.step();
        }
        twins.AssertSame();
        Assert.True(twins.Flat.NamedParameterMap()[frozen].eq(before).all().item<bool>(), "no gradient, no update (weight decay and momentum included)");
        twins.Train(2, seed: 9);
        twins.AssertSame();
    }

    [Fact]
    public void The_factory_flattens_on_a_GPU_only_and_its_unflattened_SGD_is_TorchSharps()
    {
        using var reference = NewModel();
        using var model = NewModel();
        using var sgd = optim.SGD(reference.parameters(), 0.1, momentum: 0.9, weight_decay: 1e-4);
        using var optimizer = OptimizerFactory.Create(new TrainingHparams { Lr = 0.1, Momentum = 0.9, WeightDecay = 1e-4 }, model.parameters());
        Assert.False(Assert.IsType<FlatSgd>(optimizer).Flattened); // CPU parameters
        Train(reference, sgd, 3, seed: 10);
        Train(model, optimizer, 3, seed: 10);
        AssertSameParameters(reference, model);
    }
}
