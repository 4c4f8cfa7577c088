using System.Diagnostics;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>Throughput of resnet_20 training steps (SGD with momentum, batch 128, 3x32x32) on CPU.</summary>
internal static class ResNetStepBenchmark
{
    public static int Run(string[] args)
    {
        int steps = args.Length > 0 ? int.Parse(args[0]) : 20;
        const int batch = 128;
        var recipe = Presets.Get("resnet_20");
        using var model = ModelRegistry.Create(recipe.Model, new InputSpec(3, 32, 32, 10), 1);
        using var optimizer = OptimizerFactory.Create(recipe.Training, model.parameters());
        using var images = randn(batch, 3, 32, 32);
        using var labels = randint(0, 10, batch);
        model.train();
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(images), labels).backward();
            optimizer.step();
        }
        for (int i = 0; i < 3; i++) Step();
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        double median = times.Order().ElementAt(times.Count / 2);
        Console.WriteLine($"resnet_20 training step, batch {batch}: median {median * 1000:F1} ms -> {batch / median:F0} images/s");
        return 0;
    }
}
