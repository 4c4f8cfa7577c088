using System.Diagnostics;
using TicketLab.Data;
using TorchSharp;
using Xunit.Abstractions;

namespace TicketLab.Tests.Data;

/// <summary>
/// Loads the real Fashion-MNIST installed by the Debian package <c>dataset-fashion-mnist</c>.
/// Fails (does not skip) when it is missing: CI installs the package.
/// </summary>
public sealed class RealFashionMnistTests(ITestOutputHelper output)
{
    private const string Folder = "/usr/share/datasets/fashion-mnist";

    [Fact]
    public void LoadsInstalledFashionMnist()
    {
        if (!Directory.Exists(Folder))
        {
            Assert.Fail($"{Folder} does not exist: install the Debian package with 'apt-get install dataset-fashion-mnist'.");
        }

        // Only the system folder is searched: the environment lookup sees nothing.
        var locator = new DataLocator(_ => null, extraRoots: [], useSystemFolders: true);
        Assert.Equal(Folder, locator.Locate(DatasetCatalog.FashionMnist, null));

        var watch = Stopwatch.StartNew();
        var images = IdxReader.ReadImages(Path.Combine(Folder, "train-images-idx3-ubyte.gz"));
        var readSeconds = watch.Elapsed.TotalSeconds;
        Assert.Equal((60000, 28, 28), (images.Count, images.Rows, images.Columns));

        watch.Restart();
        var (train, test) = DatasetLoader.Load(DatasetCatalog.FashionMnist, null, download: false, trainSubset: null, locator, downloader: null);
        var loadSeconds = watch.Elapsed.TotalSeconds;
        output.WriteLine($"IdxReader.ReadImages(60000 images): {readSeconds:F3} s; full load of both splits: {loadSeconds:F3} s");
        using (train)
        using (test)
        {
            Assert.Equal((60000, 10000, 10), (train.Count, test.Count, train.NumClasses));
            Assert.Equal([60000L, 1, 28, 28], train.Images.shape);
            Assert.Equal([10000L], test.Labels.shape);

            // Fashion-MNIST has 6000 training and 1000 test images per class.
            Assert.All(train.Labels.bincount(null).data<long>().ToArray(), n => Assert.Equal(6000, n));
            Assert.All(test.Labels.bincount(null).data<long>().ToArray(), n => Assert.Equal(1000, n));

            // The catalog's mean and std are the training set's, so normalized training pixels have mean 0 and std 1.
            using var scope = torch.NewDisposeScope();
            Assert.Equal(0.0, train.Images.mean().item<float>(), 0.01);
            Assert.Equal(1.0, train.Images.std().item<float>(), 0.01);
        }

    }
}
