using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Bench;

/// <summary>The lenet_300_100 preset on full Fashion-MNIST through the real runner: accuracy and speed.</summary>
internal static class AccuracyBenchmark
{
    public static int Run(string[] args)
    {
        int epochs = args.Length > 0 ? int.Parse(args[0]) : 40;
        int replicate = args.Length > 1 ? int.Parse(args[1]) : 1;
        var desc = Presets.Get("lenet_300_100");
        desc = desc with { Training = desc.Training with { TrainingSteps = new StepSpec(epochs, 0) } };
        string root = Path.Combine(Path.GetTempPath(), "ticketlab-bench", Guid.NewGuid().ToString("N")[..8]);
        var context = new RunContext { Store = new ExperimentStore(root), Log = Console.Out };
        var summary = TrainingRunner.Train(desc, replicate, new RunOptions(), context);
        var accuracies = MetricsLog.Read(Path.Combine(summary.Folder, "metrics.csv"))
            .Where(r => r.Name == "test_accuracy" && r.Step > 0).Select(r => r.Value).ToArray();
        for (int e = 0; e < accuracies.Length; e++) Console.WriteLine($"epoch {e + 1}: test accuracy {accuracies[e]:P2}");
        double lastFive = accuracies.TakeLast(5).Average();
        Console.WriteLine($"mean test accuracy over the last 5 epochs: {lastFive:P2}");
        Console.WriteLine($"final {summary.FinalTestAccuracy:P2}, best {summary.BestTestAccuracy:P2}");
        Console.WriteLine($"seconds per epoch (evaluation included): {summary.SecondsPerEpoch:F3}; training images/s {summary.ImagesPerSecond:N0}; wall {summary.WallSeconds:F1} s");
        Directory.Delete(root, recursive: true);
        return 0;
    }
}
