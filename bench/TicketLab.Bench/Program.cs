// TicketLab benchmarks: prints figures for the closing notes. Usage:
//   dotnet run -c Release --project bench/TicketLab.Bench -- <benchmark> [options]
// Benchmarks: epoch, accuracy, resnet-step (more are listed by running it without arguments).
using TicketLab.Bench;
using TorchSharp;

var benchmarks = new Dictionary<string, (string Help, Func<string[], int> Run)>
{
    ["epoch"] = ("seconds per epoch of lenet_300_100 on full Fashion-MNIST, with a breakdown [epochs=3]", EpochBenchmark.Run),
    ["accuracy"] = ("the lenet_300_100 preset for 40 epochs: mean test accuracy of the last 5 epochs [epochs=40]", AccuracyBenchmark.Run),
    ["mask-overhead"] = ("slowdown of a masked lenet_300_100 training step vs an unmasked one [rounds=6]", MaskOverheadBenchmark.Run),
    ["data"] = ("Fashion-MNIST read/load time and CIFAR augmentation per batch", DataBenchmark.Run),
    ["resnet-step"] = ("images/s of a resnet_20 training step at batch 128 on CPU [steps=20]", ConvNetBenchmark.ResNetStep),
    ["interpolate"] = ("seconds of a 30-point interpolation of two resnet_20s on 10,000 test images, batch norm re-estimated at each point [points=30 model=resnet_20]", InterpolationBenchmark.Run),
    ["overhead"] = ("host time of a training step on a tiny batch, by phase [model=resnet_20 steps=200]", StepOverheadBenchmark.Run),
    ["stacked-step"] = ("a training step of N lenet_300_100s (batch 60, Adam) as one stacked model against N lone steps [networks=8 rounds=5]", StackedStepBenchmark.Run),
    ["conv"] = ("images/s of resnet_20|vgg_16, a training step (batch 128) or an evaluation (batch 1000) [model=resnet_20 step|eval steps=20 device=cpu|cuda]", ConvNetBenchmark.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine("usage: TicketLab.Bench <benchmark> [args]");
    foreach (var (name, (help, _)) in benchmarks) Console.Error.WriteLine($"  {name,-14} {help}");
    return 2;
}
// BENCH_THREADS sets the thread count (bench/peers.sh gives both sides the same); default: every core.
torch.set_num_threads(int.TryParse(Environment.GetEnvironmentVariable("BENCH_THREADS"), out int threads) && threads > 0 ? threads : Environment.ProcessorCount);
Console.WriteLine($"# {args[0]} on {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, {DateTime.UtcNow:u}");
return benchmark.Run(args[1..]);
