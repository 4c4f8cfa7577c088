using System.Diagnostics;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// Images/s of a CIFAR network (resnet_20 or vgg_16, the presets' recipes) on CPU: a training
/// step (batch 128, SGD with momentum, train mode) or an evaluation (batch 1000, no grad).
/// Its PyTorch peer is bench/peers/pytorch_convnets.py; bench/peers.sh runs both in turn.
/// </summary>
internal static class ConvNetBenchmark
{
    public static int ResNetStep(string[] args) => Run(["resnet_20", "step", .. args]);

    public static int Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "resnet_20";
        bool training = (args.Length > 1 ? args[1] : "step") == "step";
        int steps = args.Length > 2 ? int.Parse(args[2]) : 20;
        int batch = training ? 128 : 1000;
        var recipe = Presets.Get(name);
        using var model = ModelRegistry.Create(recipe.Model, new InputSpec(3, 32, 32, 10), 1);
        using var optimizer = OptimizerFactory.Create(recipe.Training, model.parameters());
        using var images = randn(batch, 3, 32, 32);
        using var labels = randint(0, 10, batch);
        if (training) model.train(); else model.eval();
        int trained = 0;
        void Step()
        {
            using var scope = NewDisposeScope();
            if (training)
            {
                NativeAllocator.AfterTrainingIteration(trained++); // as TrainingLoop does
                OptimizerFactory.ClearGradients(optimizer);
                nn.functional.cross_entropy(model.forward(images), labels).backward();
                optimizer.step();
            }
            else
            {
                using var _ = no_grad();
                model.forward(images).argmax(1);
            }
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
        long parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"ticketlab {name} {(training ? "step" : "eval")}, batch {batch}, {torch.get_num_threads()} thread(s), {parameters} parameters: "
            + $"median {median * 1000:F1} ms -> {batch / median:F0} images/s");
        Console.WriteLine(PeakMemory.Describe());
        return 0;
    }
}
