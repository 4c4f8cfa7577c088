using TicketLab.Data;

namespace TicketLab.Tests.Data;

public sealed class DatasetCatalogTests
{
    [Theory]
    [InlineData("mnist", 10, 1, 28, false)]
    [InlineData("fashion_mnist", 10, 1, 28, false)]
    [InlineData("cifar10", 10, 3, 32, true)]
    [InlineData("cifar100", 100, 3, 32, true)]
    public void DescribesEachDataset(string name, int classes, int channels, int size, bool augment)
    {
        var info = DatasetCatalog.Get(name);

        Assert.Equal(name, info.Name);
        Assert.Equal(classes, info.NumClasses);
        Assert.Equal((channels, size, size), (info.Channels, info.Height, info.Width));
        Assert.Equal(channels, info.Mean.Count);
        Assert.Equal(channels, info.Std.Count);
        Assert.Equal(augment, info.AugmentTraining);
        Assert.All(info.Download.Files, f => Assert.Matches("^[0-9a-f]{32}$", f.Md5));
        Assert.StartsWith("http", info.Download.BaseUrl);
        Assert.EndsWith("/", info.Download.BaseUrl);
    }

    [Fact]
    public void NormalizationConstants()
    {
        Assert.Equal([0.1307f], DatasetCatalog.Get("mnist").Mean);
        Assert.Equal([0.3081f], DatasetCatalog.Get("mnist").Std);
        Assert.Equal([0.2860f], DatasetCatalog.Get("fashion_mnist").Mean);
        Assert.Equal([0.3530f], DatasetCatalog.Get("fashion_mnist").Std);
        Assert.Equal([0.4914f, 0.4822f, 0.4465f], DatasetCatalog.Get("cifar10").Mean);
        Assert.Equal([0.2470f, 0.2435f, 0.2616f], DatasetCatalog.Get("cifar10").Std);
        Assert.Equal([0.5071f, 0.4865f, 0.4409f], DatasetCatalog.Get("cifar100").Mean);
        Assert.Equal([0.2673f, 0.2564f, 0.2762f], DatasetCatalog.Get("cifar100").Std);
    }

    [Fact]
    public void FilesFoldersAndDownloads()
    {
        var mnist = DatasetCatalog.Mnist;
        Assert.Equal(["train-images-idx3-ubyte", "train-labels-idx1-ubyte"], mnist.TrainFiles);
        Assert.Equal(["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"], mnist.TestFiles);
        Assert.Equal(["mnist"], mnist.SubFolders);
        Assert.Equal("https://ossci-datasets.s3.amazonaws.com/mnist/", mnist.Download.BaseUrl);
        Assert.Equal("f68b3c2dcbeaaa9fbdd348bbdeb94873", mnist.Download.Files.Single(f => f.FileName == "train-images-idx3-ubyte.gz").Md5);

        var fashion = DatasetCatalog.FashionMnist;
        Assert.Equal(["fashion-mnist", "fashion_mnist"], fashion.SubFolders);
        Assert.Equal(["/usr/share/datasets/fashion-mnist"], fashion.SystemFolders);
        Assert.Equal("dataset-fashion-mnist", fashion.SystemPackage);
        Assert.Equal("bb300cfdad3c16e7a12a480ee83cd310", fashion.Download.Files.Single(f => f.FileName == "t10k-labels-idx1-ubyte.gz").Md5);

        var cifar10 = DatasetCatalog.Cifar10;
        Assert.Equal(["cifar-10-batches-bin", "cifar10"], cifar10.SubFolders);
        Assert.Equal(5, cifar10.TrainFiles.Count);
        Assert.Equal(["test_batch.bin"], cifar10.TestFiles);
        Assert.True(cifar10.Download.IsTarGzArchive);
        Assert.Equal(new DownloadFile("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"), cifar10.Download.Files.Single());

        var cifar100 = DatasetCatalog.Cifar100;
        Assert.Equal(["cifar-100-binary", "cifar100"], cifar100.SubFolders);
        Assert.Equal(["train.bin"], cifar100.TrainFiles);
        Assert.Equal(new DownloadFile("cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecb0e1cd2a"), cifar100.Download.Files.Single());
    }

    [Fact]
    public void UnknownNameListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetCatalog.Get("imagenet"));

        Assert.Contains("imagenet", e.Message);
        Assert.Contains("mnist, fashion_mnist, cifar10, cifar100", e.Message);
    }

    [Fact]
    public void NamesAreCaseInsensitive() => Assert.Same(DatasetCatalog.Cifar10, DatasetCatalog.Get("CIFAR10"));
}
