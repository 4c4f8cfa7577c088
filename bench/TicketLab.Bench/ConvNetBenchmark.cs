using System.Diagnostics;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>
/// Images/s of a CIFAR network (resnet_20 or vgg_16, the presets' recipes) on CPU or CUDA: a
/// training step (batch 128, SGD with momentum, train mode) or an evaluation (batch 1000, no grad).
/// Its PyTorch peer is bench/peers/pytorch_convnets.py; bench/peers.sh runs both in turn on CPU,
/// bench/gpu.sh on a CUDA machine (TF32 on as in the CLI; BENCH_TF32=0 turns it off).
/// </summary>
internal static class ConvNetBenchmark
{
    public static int ResNetStep(string[] args) => Run(["resnet_20", "step", .. args]);

    public static int Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "resnet_20";
        bool training = (args.Length > 1 ? args[1] : "step") == "step";
        int steps = args.Length > 2 ? int.Parse(args[2]) : 20;
        var device = args.Length > 3 ? OpenDevice(args[3]) : CPU;
        int batch = training ? 128 : 1000;
        var recipe = Presets.Get(name);
        using var model = ModelRegistry.Create(recipe.Model, new InputSpec(3, 32, 32, 10), 1);
        model.to(device);
        using var optimizer = OptimizerFactory.Create(recipe.Training, model.parameters());
        using var images = randn(batch, 3, 32, 32, device: device);
        using var labels = randint(0, 10, batch, device: device);
        if (training) model.train(); else model.eval();
        // BENCH_AUTOCAST=bf16: convolutions and linear layers in bfloat16, as --autocast bf16 trains.
        using var autocast = Autocast.Enable(Environment.GetEnvironmentVariable("BENCH_AUTOCAST") == "bf16" ? ScalarType.BFloat16 : null);
        void Step()
        {
            using var scope = NewDisposeScope();
            if (training)
            {
                OptimizerFactory.ClearGradients(optimizer);
                var loss = nn.functional.cross_entropy(model.forward(images).to(ScalarType.Float32), labels); // the loss in float32, as the training loop computes it
                NativeAllocator.AfterForwardPass(); // as TrainingLoop does
                loss.backward();
                optimizer.step();
            }
            else
            {
                using var _ = no_grad();
                model.forward(images).argmax(1);
            }
            // CUDA runs asynchronously: a step is done when the device has finished it.
            if (device.type == DeviceType.CUDA) cuda.synchronize();
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
        string where = (device.type == DeviceType.CUDA ? $"cuda, TF32 {(backends.cuda.matmul.allow_tf32 ? "on" : "off")}" : $"{torch.get_num_threads()} thread(s)")
            + (Autocast.Active is null ? "" : ", autocast bf16");
        Console.WriteLine($"ticketlab {name} {(training ? "step" : "eval")}, batch {batch}, {where}, {parameters} parameters: "
            + $"median {median * 1000:F1} ms -> {batch / median:F0} images/s");
        Console.WriteLine(PeakMemory.Describe());
        return 0;
    }

    /// <summary>cpu, or cuda with the libtorch on the library path (bench/gpu.sh), TF32 as the CLI sets it.</summary>
    private static Device OpenDevice(string name)
    {
        if (name == "cpu") return CPU;
        if (name != "cuda") throw new ArgumentException($"device {name}: use cpu or cuda");
        return Devices.CudaDevice.Open(tf32: Environment.GetEnvironmentVariable("BENCH_TF32") != "0");
    }
}
