using System.Diagnostics;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// Cost of keeping a pruning mask: the same lenet_300_100 training steps on Fashion-MNIST with
/// and without <see cref="MaskConstraint"/> (gradients masked before each step),
/// alternating rounds so that machine noise hits both alike.
/// </summary>
internal static class MaskOverheadBenchmark
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 6;
        const int stepsPerRound = 200;
        var desc = Presets.Get("lenet_300_100");
        var (train, _) = DatasetLoader.Load("fashion_mnist", null, false, null);
        var batches = new TrainingBatches(train, 128, 1, augment: false);
        using var model = ModelRegistry.Create(desc.Model, new InputSpec(1, 28, 28, 10), 1);
        using var optimizer = OptimizerFactory.Create(desc.Training with { Momentum = 0.9, WeightDecay = 1e-4 }, model.parameters());
        var prunable = model.NamedParameterMap().Where(p => model.PrunableParameterNames.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        using var dense = Mask.Ones(model);
        using var mask = new SparseGlobalPruning().Prune(prunable, dense, new PruningRates(0.9, new HashSet<string>(), new Dictionary<string, double>()));
        var constraint = new MaskConstraint(model, mask);
        constraint.Apply();

        long iteration = 0;
        double Steps(IParameterConstraint? c)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < stepsPerRound; i++, iteration++)
            {
                using var scope = NewDisposeScope();
                var (images, labels) = batches.At(new Step(iteration % (batches.IterationsPerEpoch * 10), batches.IterationsPerEpoch));
                OptimizerFactory.ClearGradients(optimizer);
                nn.functional.cross_entropy(model.forward(images), labels).backward();
                c?.BeforeOptimizerStep();
                optimizer.step();
            }
            return clock.Elapsed.TotalSeconds / stepsPerRound;
        }
        Steps(null); Steps(constraint); // warm up
        var plain = new List<double>();
        var masked = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            plain.Add(Steps(null));
            masked.Add(Steps(constraint));
        }
        double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
        Console.WriteLine($"unmasked step: median {Median(plain) * 1000:F3} ms; masked step (90% sparse): median {Median(masked) * 1000:F3} ms");
        Console.WriteLine($"slowdown of a masked step: {100 * (Median(masked) / Median(plain) - 1):F1}% (target: under 5%)");
        return 0;
    }
}
