using TicketLab.Data;
using TorchSharp;
using static TicketLab.Tests.Data.DataFixtures;

namespace TicketLab.Tests.Data;

public sealed class DatasetLoaderTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private DataLocator Locator() =>
        new(Env(("XDG_DATA_HOME", dir.Sub("xdg")), ("HOME", dir.Sub("home"))), useSystemFolders: false);

    private static float[] Expected(byte[] pixels, DatasetInfo info)
    {
        var plane = info.Height * info.Width;
        return pixels.Select((p, i) =>
        {
            var channel = i / plane % info.Channels;
            return (p / 255f - info.Mean[channel]) / info.Std[channel];
        }).ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadsIdxWithNormalizedPixelsAndLabels(bool gzip)
    {
        WriteIdxDataset(dir.Sub("mnist"), trainCount: 12, testCount: 5, gzip: gzip);
        var info = DatasetCatalog.Mnist;

        var (train, test) = DatasetLoader.Load(info, dir.Path, download: false, trainSubset: null, Locator(), downloader: null);
        using (train)
        using (test)
        {
            Assert.Same(info, train.Info);
            Assert.Equal((12, 5, 10), (train.Count, test.Count, train.NumClasses));
            Assert.Equal([12L, 1, 28, 28], train.Images.shape);
            Assert.Equal(torch.ScalarType.Float32, train.Images.dtype);
            Assert.Equal(torch.ScalarType.Int64, train.Labels.dtype);
            Assert.Equal([5L], test.Labels.shape);
            AssertClose(Expected(Pattern(12 * 784, 1), info), train.Images.data<float>().ToArray());
            AssertClose(Expected(Pattern(5 * 784, 2), info), test.Images.data<float>().ToArray());
            Assert.Equal(Labels(12, 10, 1).Select(l => (long)l), train.Labels.data<long>().ToArray());
            Assert.Equal(Labels(5, 10, 2).Select(l => (long)l), test.Labels.data<long>().ToArray());
        }
    }

    [Fact]
    public void NormalizesBlackAndWhitePerChannel()
    {
        var info = DatasetCatalog.Cifar10;
        var pixels = new byte[2 * 3072];
        pixels.AsSpan(3072).Fill(255);
        using var data = ImageDataset.FromBytes(info, pixels, [0, 9]);

        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(-info.Mean[c] / info.Std[c], data.Images[0, c, 5, 7].item<float>(), 5);
            Assert.Equal((1 - info.Mean[c]) / info.Std[c], data.Images[1, c, 31, 0].item<float>(), 5);
        }

        Assert.Equal(-0.4914f / 0.2470f, data.Images[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal((1 - 0.4465f) / 0.2616f, data.Images[1, 2, 0, 0].item<float>(), 5);
    }

    [Fact]
    public void LoadsCifar10ChannelMajorAndSubset()
    {
        WriteCifar10Dataset(dir.Sub("cifar10"), perBatch: 3, testCount: 4);
        var info = DatasetCatalog.Cifar10;

        var (train, test) = DatasetLoader.Load(info, dir.Path, false, trainSubset: 7, Locator(), null);
        using (train)
        using (test)
        {
            Assert.Equal([7L, 3, 32, 32], train.Images.shape);
            Assert.Equal(4, test.Count);
            var allPixels = Enumerable.Range(1, 5).SelectMany(i => Pattern(3 * 3072, i)).ToArray();
            var allLabels = Enumerable.Range(1, 5).SelectMany(i => Labels(3, 10, i)).ToArray();
            AssertClose(Expected(allPixels[..(7 * 3072)], info), train.Images.data<float>().ToArray());
            Assert.Equal(allLabels[..7].Select(l => (long)l), train.Labels.data<long>().ToArray());
            AssertClose(Expected(Pattern(4 * 3072, 9), info), test.Images.data<float>().ToArray());
        }
    }

    [Fact]
    public void LoadsCifar100FineLabels()
    {
        var folder = dir.Sub("cifar-100-binary");
        byte[][] trainLabels = [[1, 99], [2, 50], [3, 0]];
        Write(Path.Combine(folder, "train.bin"), CifarRecords(trainLabels, Pattern(3 * 3072, 1)));
        Write(Path.Combine(folder, "test.bin"), CifarRecords([[4, 77]], Pattern(3072, 2)));

        var (train, test) = DatasetLoader.LoadFromFolder(DatasetCatalog.Cifar100, folder, null);
        using (train)
        using (test)
        {
            Assert.Equal(100, train.NumClasses);
            Assert.Equal([99L, 50, 0], train.Labels.data<long>().ToArray());
            Assert.Equal([77L], test.Labels.data<long>().ToArray());
            AssertClose(Expected(Pattern(3072, 2), DatasetCatalog.Cifar100), test.Images.data<float>().ToArray());
        }
    }

    [Fact]
    public void TensorsOutliveTheCallersDisposeScope()
    {
        WriteIdxDataset(dir.Sub("mnist"));
        ImageDataset train, test;
        using (torch.NewDisposeScope())
        {
            (train, test) = DatasetLoader.LoadFromFolder(DatasetCatalog.Mnist, dir.Sub("mnist"), 3);
        }

        using (train)
        using (test)
        {
            Assert.Equal([3L, 1, 28, 28], train.Images.shape);
            Assert.Equal(Labels(3, 10, 1)[2], train.Labels[2].item<long>());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(13)]
    public void SubsetOutOfRangeThrows(int subset)
    {
        WriteIdxDataset(dir.Sub("mnist"), trainCount: 12);

        var e = Assert.ThrowsAny<ArgumentException>(() => DatasetLoader.LoadFromFolder(DatasetCatalog.Mnist, dir.Sub("mnist"), subset));

        Assert.Contains(subset > 0 ? "larger than the 12 training examples" : "at least 1", e.Message);
    }

    [Fact]
    public void SubsetEqualToTheSetIsAllowed()
    {
        WriteIdxDataset(dir.Sub("mnist"), trainCount: 12);
        var (train, test) = DatasetLoader.LoadFromFolder(DatasetCatalog.Mnist, dir.Sub("mnist"), 12);
        using (train)
        using (test)
        {
            Assert.Equal(12, train.Count);
        }
    }

    [Fact]
    public void ImageAndLabelCountMismatchNamesBothFiles()
    {
        var folder = dir.Sub("mnist");
        WriteIdxDataset(folder, gzip: false);
        var labels = Write(Path.Combine(folder, "train-labels-idx1-ubyte"), IdxLabelsBytes(11, Labels(11, 10)));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.LoadFromFolder(DatasetCatalog.Mnist, folder, null));

        var images = Path.Combine(folder, "train-images-idx3-ubyte");
        Assert.Equal($"{images}: holds 12 images but {labels} holds 11 labels; the counts must match", e.Message);
    }

    [Fact]
    public void IdxLabelOutOfRangeNamesLabelFile()
    {
        var folder = dir.Sub("fashion-mnist");
        WriteIdxDataset(folder, gzip: true);
        var labels = Labels(5, 10, 2);
        labels[3] = 10;
        var path = Write(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), Gzip(IdxLabelsBytes(5, labels)));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.LoadFromFolder(DatasetCatalog.FashionMnist, folder, null));

        Assert.StartsWith($"{path}: label 10 at index 3 is out of range; fashion_mnist has 10 classes", e.Message);
    }

    [Fact]
    public void WrongImageSizeIsRejected()
    {
        var folder = dir.Sub("mnist");
        WriteIdxDataset(folder, gzip: false);
        var path = Write(Path.Combine(folder, "t10k-images-idx3-ubyte"), IdxImagesBytes(5, 32, 32, Pattern(5 * 1024)));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.LoadFromFolder(DatasetCatalog.Mnist, folder, null));

        Assert.Equal($"{path}: images are 32x32, expected 28x28 for mnist", e.Message);
    }

    [Fact]
    public void MalformedFilesSurfaceThroughLoad()
    {
        var folder = dir.Sub("mnist");
        WriteIdxDataset(folder, gzip: true);
        var path = Write(Path.Combine(folder, "train-images-idx3-ubyte.gz"), Gzip(IdxImagesBytes(12, 28, 28, Pattern(12 * 784))[..^100]));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load(DatasetCatalog.Mnist, folder, false, null, Locator(), null));

        Assert.StartsWith(path + ": truncated", e.Message);
    }

    [Fact]
    public void CifarSizeErrorSurfacesThroughLoad()
    {
        var folder = dir.Sub("cifar10");
        WriteCifar10Dataset(folder);
        var path = Write(Path.Combine(folder, "data_batch_5.bin"), Cifar10Bytes(3, 5)[..^1]);

        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load(DatasetCatalog.Cifar10, dir.Path, false, null, Locator(), null));

        Assert.StartsWith(path + ": size", e.Message);
    }

    [Fact]
    public void MissingWithoutDownloadThrowsNotFound()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => DatasetLoader.Load(DatasetCatalog.Cifar100, dir.Sub("nothing"), false, null, Locator(), null));

        Assert.Contains($"--data-dir {dir.Sub("nothing")}: does not exist", e.Message);
        Assert.Contains("--download", e.Message);
    }

    [Fact]
    public void UnknownNameThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetLoader.Load("svhn", null, false, null));
        Assert.Contains("mnist, fashion_mnist, cifar10, cifar100", e.Message);
    }

    [Fact]
    public void DownloadsIntoUserFolderWhenMissingThenReusesIt()
    {
        WriteIdxDataset(dir.Sub("source"), trainCount: 8, testCount: 3);
        var files = Directory.GetFiles(dir.Sub("source")).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        using var server = new LoopbackHttpServer(files);
        using var http = new HttpClient();
        var info = DatasetCatalog.FashionMnist with
        {
            Download = DatasetCatalog.FashionMnist.Download with
            {
                Files = DatasetCatalog.FashionMnist.Download.Files.Select(f => f with { Md5 = Md5Hex(files[f.FileName]) }).ToArray(),
            },
        };
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["fashion_mnist"] = server.BaseUrl }, Env());

        var (train, test) = DatasetLoader.Load(info, null, download: true, trainSubset: 5, Locator(), downloader);
        using (train)
        using (test)
        {
            Assert.Equal((5, 3), (train.Count, test.Count));
        }

        Assert.Equal(4, server.Requests.Count);
        Assert.True(File.Exists(Path.Combine(dir.Sub("xdg"), "ticketlab", "datasets", "fashion-mnist", "train-images-idx3-ubyte.gz")));

        (train, test) = DatasetLoader.Load(info, null, download: true, trainSubset: null, Locator(), downloader);
        using (train)
        using (test)
        {
            Assert.Equal(8, train.Count);
        }

        Assert.Equal(4, server.Requests.Count);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > 1e-5f)
            {
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }
}
