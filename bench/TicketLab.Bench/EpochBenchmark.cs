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
/// Times epochs of the lenet_300_100 recipe exactly as the training loop runs them (same
/// batches, optimizer and evaluation), with a stopwatch around each phase to show where the
/// time goes.
/// </summary>
internal static class EpochBenchmark
{
    public static int Run(string[] args)
    {
        int epochs = args.Length > 0 ? int.Parse(args[0]) : 3;
        var desc = Presets.Get("lenet_300_100");
        var (train, test) = DatasetLoader.Load("fashion_mnist", null, false, null);
        var batches = new TrainingBatches(train, desc.Dataset.BatchSize, seed: 1, augment: false);
        using var model = ModelRegistry.Create(desc.Model, new InputSpec(1, 28, 28, 10), 1);
        using var optimizer = OptimizerFactory.Create(desc.Training, model.parameters());
        var schedule = new LearningRateSchedule(desc.Training, batches.IterationsPerEpoch);

        var phases = new[] { "batch", "forward+loss", "backward", "optimizer", "bookkeeping", "test evaluation" };
        var totals = new double[phases.Length];
        var epochSeconds = new List<double>();
        var clock = new Stopwatch();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var phase = new double[phases.Length];
            model.train();
            for (int i = 0; i < batches.IterationsPerEpoch; i++)
            {
                using var scope = NewDisposeScope();
                var step = Step.FromEpochs(epoch, i, batches.IterationsPerEpoch);
                clock.Restart();
                var (images, labels) = batches.At(step);
                phase[0] += Lap(clock);
                OptimizerFactory.SetLearningRate(optimizer, schedule.At(step));
                OptimizerFactory.ClearGradients(optimizer);
                var logits = model.forward(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                phase[1] += Lap(clock);
                loss.backward();
                phase[2] += Lap(clock);
                optimizer.step();
                phase[3] += Lap(clock);
                using (no_grad()) _ = logits.argmax(1).eq(labels).sum().item<long>() + loss.item<float>();
                phase[4] += Lap(clock);
            }
            clock.Restart();
            var result = Evaluator.Evaluate(model, test);
            phase[5] += Lap(clock);
            epochSeconds.Add(epochClock.Elapsed.TotalSeconds);
            Console.WriteLine($"epoch {epoch + 1}: {epochClock.Elapsed.TotalSeconds:F3} s, test accuracy {result.Accuracy:P2}  "
                + string.Join("  ", phases.Select((p, k) => $"{p} {phase[k]:F3}")));
            if (epoch > 0) for (int k = 0; k < phases.Length; k++) totals[k] += phase[k];
        }
        var steady = epochSeconds.Skip(1).Order().ToArray();
        double median = steady.Length > 0 ? steady[steady.Length / 2] : epochSeconds[0];
        Console.WriteLine($"ticketlab lenet_300_100, {torch.get_num_threads()} thread(s): median seconds per epoch (epochs 2..{epochs}, test evaluation included): {median:F3}");
        if (steady.Length > 0)
        {
            Console.WriteLine("where the time goes (mean per epoch, epochs 2..):");
            for (int k = 0; k < phases.Length; k++) Console.WriteLine($"  {phases[k],-16} {totals[k] / steady.Length:F3} s");
        }
        Console.WriteLine(PeakMemory.Describe());
        // No peer figure is printed from memory: bench/peers.sh runs the PyTorch peer in the same invocation.
        return 0;
    }

    private static double Lap(Stopwatch clock)
    {
        double seconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return seconds;
    }
}
