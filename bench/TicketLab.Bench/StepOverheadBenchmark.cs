using System.Diagnostics;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// The host's share of a training step: a network's step on a batch so small that the kernels
/// cost next to nothing, split into forward, backward, optimizer step and gradient clearing. On a
/// GPU, small networks (ResNet-20 at batch 128) are bound by this time, not by the device.
/// </summary>
internal static class StepOverheadBenchmark
{
    public static int Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "resnet_20";
        int steps = args.Length > 1 ? int.Parse(args[1]) : 200;
        var recipe = Presets.Get(name);
        using var model = ModelRegistry.Create(recipe.Model, new InputSpec(3, 8, 8, 10), 1);
        using var optimizer = OptimizerFactory.Create(recipe.Training, model.parameters());
        using var images = randn(2, 3, 8, 8);
        using var labels = randint(0, 10, 2);
        model.train();
        var phases = new double[4];
        var clock = new Stopwatch();
        for (int i = 0; i < steps + 20; i++)
        {
            using var scope = NewDisposeScope();
            bool timed = i >= 20;
            void Mark(int phase) { if (timed) phases[phase] += clock.Elapsed.TotalMilliseconds; clock.Restart(); }
            clock.Restart();
            OptimizerFactory.ClearGradients(optimizer); Mark(0);
            var loss = nn.functional.cross_entropy(model.forward(images), labels); Mark(1);
            loss.backward(); Mark(2);
            optimizer.step(); Mark(3);
        }
        long tensors = model.parameters().Count();
        Console.WriteLine($"ticketlab {name} step on 2 images of 3x8x8, {tensors} parameter tensors, ms per step: "
            + $"clear {phases[0] / steps:F3}, forward {phases[1] / steps:F3}, backward {phases[2] / steps:F3}, optimizer {phases[3] / steps:F3}, "
            + $"total {phases.Sum() / steps:F3}");
        return 0;
    }
}
