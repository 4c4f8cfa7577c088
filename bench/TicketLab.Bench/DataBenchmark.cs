using System.Diagnostics;
using TicketLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Bench;

/// <summary>Data path speed: reading and loading Fashion-MNIST, and CIFAR augmentation of a batch.</summary>
internal static class DataBenchmark
{
    public static int Run(string[] args)
    {
        var watch = Stopwatch.StartNew();
        var images = IdxReader.ReadImages("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
        Console.WriteLine($"read 60000 gzip IDX images: {watch.Elapsed.TotalSeconds:F3} s ({images.Count} images)");
        watch.Restart();
        var (train, test) = DatasetLoader.Load("fashion_mnist", null, false, null);
        Console.WriteLine($"load both Fashion-MNIST splits into normalized tensors: {watch.Elapsed.TotalSeconds:F3} s");
        train.Dispose();
        test.Dispose();

        using var batch = randn(128, 3, 32, 32);
        using var generator = new Generator(1);
        Augmentation.RandomCropAndFlip(batch, generator).Dispose();
        var times = new List<double>();
        for (int i = 0; i < 50; i++)
        {
            watch.Restart();
            using var scope = NewDisposeScope();
            Augmentation.RandomCropAndFlip(batch, generator);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"CIFAR crop+flip of a 128-image batch: median {times.Order().ElementAt(times.Count / 2):F2} ms");
        return 0;
    }
}
