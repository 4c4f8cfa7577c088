using System.Diagnostics;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// Time of a training step of N lenet_300_100s at the paper's recipe (batch 60, Adam), as one
/// stacked model against N lone steps, rounds alternating: where the stacked trainer's time goes
/// without the store around it.
/// </summary>
internal static class StackedStepBenchmark
{
    public static int Run(string[] args)
    {
        int networks = args.Length > 0 ? int.Parse(args[0]) : 8;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
        const int stepsPerRound = 100;
        var desc = Presets.Get("maene_lenet_300_100_fashion");
        var (train, _) = DatasetLoader.Load("fashion_mnist", null, false, null);
        int batch = desc.Dataset.BatchSize;
        var batches = Enumerable.Range(1, networks).Select(seed => new TrainingBatches(train, batch, seed, augment: false)).ToArray();
        var lone = Enumerable.Range(1, networks).Select(seed => ModelRegistry.Create(desc.Model, InputSpec.Of(train), seed)).ToArray();
        var loneOptimizers = lone.Select(m => OptimizerFactory.Create(desc.Training, m.parameters())).ToArray();
        var members = Enumerable.Range(1, networks).Select(seed => ModelRegistry.Create(desc.Model, InputSpec.Of(train), seed)).ToArray();
        using var stacked = StackedModel.TryCreate(members)!;
        using var optimizer = OptimizerFactory.Create(desc.Training, stacked.parameters(), fused: true);
        long iteration = 0;
        Step At(long i) => new(i % (batches[0].IterationsPerEpoch * 10), batches[0].IterationsPerEpoch);

        double Lone()
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < stepsPerRound; i++, iteration++)
                for (int n = 0; n < networks; n++)
                {
                    using var scope = NewDisposeScope();
                    var (images, labels) = batches[n].At(At(iteration));
                    OptimizerFactory.ClearGradients(loneOptimizers[n]);
                    var logits = lone[n].forward(images);
                    var loss = nn.functional.cross_entropy(logits, labels);
                    loss.item<float>();
                    loss.backward();
                    loneOptimizers[n].step();
                    using var _ = no_grad();
                    logits.argmax(1).eq(labels).sum().item<long>();
                }
            return clock.Elapsed.TotalSeconds / stepsPerRound;
        }
        var phases = new double[4];
        double Stacked()
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < stepsPerRound; i++, iteration++)
            {
                using var scope = NewDisposeScope();
                long t0 = Stopwatch.GetTimestamp();
                var (images, labels) = TrainingBatches.Stacked(batches, At(iteration));
                OptimizerFactory.ClearGradients(optimizer);
                long t1 = Stopwatch.GetTimestamp();
                var logits = stacked.forward(images);
                var losses = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction: nn.Reduction.None).view(networks, -1).mean([1]);
                losses.detach().cpu().data<float>().ToArray();
                long t2 = Stopwatch.GetTimestamp();
                losses.sum().backward();
                long t3 = Stopwatch.GetTimestamp();
                optimizer.step();
                long t4 = Stopwatch.GetTimestamp();
                phases[0] += t1 - t0; phases[1] += t2 - t1; phases[2] += t3 - t2; phases[3] += t4 - t3;
                using var _ = no_grad();
                logits.argmax(2).eq(labels).sum([1]).cpu().data<long>().ToArray();
            }
            return clock.Elapsed.TotalSeconds / stepsPerRound;
        }
        Lone(); Stacked(); // warm up
        var loneTimes = new List<double>();
        var stackedTimes = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            loneTimes.Add(Lone());
            stackedTimes.Add(Stacked());
        }
        double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
        double l = Median(loneTimes), s = Median(stackedTimes);
        Console.WriteLine($"{networks} networks, batch {batch}, Adam: {networks} lone steps {l * 1000:F2} ms ({networks * batch / l:N0} images/s), one stacked step {s * 1000:F2} ms ({networks * batch / s:N0} images/s): {l / s:F2}x");
        double total = phases.Sum();
        Console.WriteLine($"stacked step by phase: data {100 * phases[0] / total:F0}%, forward+loss {100 * phases[1] / total:F0}%, backward {100 * phases[2] / total:F0}%, optimizer {100 * phases[3] / total:F0}%");
        return 0;
    }
}
