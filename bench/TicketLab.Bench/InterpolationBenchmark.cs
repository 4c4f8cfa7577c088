using System.Diagnostics;
using TicketLab.Analysis;
using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// Wall time of the interpolation that instability and rewind sweeps run: two resnet_20 networks
/// (seeds 1 and 2), a 30-point line between them, each point's batch norm re-estimated on 20
/// training batches of 128 and evaluated on 10,000 test images. The images are random CIFAR-shaped
/// tensors (no CIFAR source is reachable here): the time does not depend on their content.
/// </summary>
internal static class InterpolationBenchmark
{
    public static int Run(string[] args)
    {
        int points = args.Length > 0 ? int.Parse(args[0]) : 30;
        string name = args.Length > 1 ? args[1] : "resnet_20";
        var recipe = Presets.Get(name);
        var input = new InputSpec(3, 32, 32, 10);
        using var generator = new Generator(7);
        using var test = new ImageDataset(DatasetCatalog.Cifar10, randn([10_000, 3, 32, 32], generator: generator), randint(0, 10, [10_000], generator: generator));
        using var train = new ImageDataset(DatasetCatalog.Cifar10, randn([2_560, 3, 32, 32], generator: generator), randint(0, 10, [2_560], generator: generator));
        using var a = ModelRegistry.Create(recipe.Model, input, 1);
        using var b = ModelRegistry.Create(recipe.Model, input, 2);
        var w0 = a.state_dict();
        var w1 = b.state_dict();
        var options = new InterpolationOptions { Points = points };
        var clock = Stopwatch.StartNew();
        var curve = Interpolation.Run(a, w0.ToDictionary(p => p.Key, p => p.Value.clone()), w1, null, test, train, options);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"ticketlab {name} interpolation, {points} points x (bn recalibration {options.BnRecalibrate}x{options.BnRecalibrationBatchSize} + 10,000 test images), "
            + $"{get_num_threads()} thread(s): {seconds:F1} s ({seconds / points:F2} s a point), error barrier {curve.ErrorBarrier:F4}");
        Console.WriteLine(PeakMemory.Describe());
        return 0;
    }
}
