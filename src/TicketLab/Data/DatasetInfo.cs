using System.Diagnostics.CodeAnalysis;

namespace TicketLab.Data;

/// <summary>How a dataset's files are laid out on disk.</summary>
public enum DatasetFileFormat
{
    /// <summary>IDX image and label files (MNIST, Fashion-MNIST), plain or gzip.</summary>
    Idx,

    /// <summary>CIFAR-10 binary batches: 1 label byte + 3072 pixel bytes per record.</summary>
    Cifar10Binary,

    /// <summary>CIFAR-100 binary files: 2 label bytes (coarse, fine) + 3072 pixel bytes per record.</summary>
    Cifar100Binary,
}

/// <summary>One file of a download, with its MD5 checksum (lower-case hex).</summary>
public sealed record DownloadFile(string FileName, string Md5);

/// <summary>
/// Where a dataset is downloaded from: each of <see cref="Files"/> is fetched from
/// <see cref="BaseUrl"/> + file name. When <see cref="IsTarGzArchive"/> is true the files are
/// tar.gz archives that extract into the dataset's first sub-folder; otherwise the files are
/// stored as they are in that sub-folder.
/// </summary>
public sealed record DownloadSource(string BaseUrl, IReadOnlyList<DownloadFile> Files, bool IsTarGzArchive);

/// <summary>
/// Everything TicketLab knows about one dataset. The files of a split are listed by name; for the
/// IDX format each may also be present with a <c>.gz</c> suffix.
/// </summary>
public sealed record DatasetInfo
{
    /// <summary>The name used on the command line, e.g. <c>fashion_mnist</c>.</summary>
    public required string Name { get; init; }

    public required string DisplayName { get; init; }

    public required DatasetFileFormat Format { get; init; }

    public required int NumClasses { get; init; }

    public required int Channels { get; init; }

    public required int Height { get; init; }

    public required int Width { get; init; }

    /// <summary>Per-channel mean of the pixel values scaled to [0, 1].</summary>
    public required IReadOnlyList<float> Mean { get; init; }

    /// <summary>Per-channel standard deviation of the pixel values scaled to [0, 1].</summary>
    public required IReadOnlyList<float> Std { get; init; }

    /// <summary>Whether random crop and flip augmentation applies to the training set.</summary>
    public required bool AugmentTraining { get; init; }

    /// <summary>Sub-folders of a data root in which the files are looked for, preferred first (downloads go to the first).</summary>
    public required IReadOnlyList<string> SubFolders { get; init; }

    /// <summary>Training files; for IDX: images then labels.</summary>
    public required IReadOnlyList<string> TrainFiles { get; init; }

    /// <summary>Test files; for IDX: images then labels.</summary>
    public required IReadOnlyList<string> TestFiles { get; init; }

    public required DownloadSource Download { get; init; }

    /// <summary>Folders where an operating-system package installs the files, searched last.</summary>
    public IReadOnlyList<string> SystemFolders { get; init; } = [];

    /// <summary>The Debian package that installs the files into <see cref="SystemFolders"/>, if any.</summary>
    public string? SystemPackage { get; init; }

    /// <summary>Pixels per image (C x H x W).</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Every file the dataset needs, training files first.</summary>
    public IEnumerable<string> AllFiles => TrainFiles.Concat(TestFiles);

    /// <summary>Whether a required file may also be stored gzip-compressed as <c>name.gz</c>.</summary>
    public bool AllowsGzipFiles => Format == DatasetFileFormat.Idx;
}

/// <summary>The registry of datasets TicketLab can train on.</summary>
public static class DatasetCatalog
{
    private static readonly string[] IdxTrain = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"];
    private static readonly string[] IdxTest = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static DatasetInfo Mnist { get; } = new()
    {
        Name = "mnist",
        DisplayName = "MNIST",
        Format = DatasetFileFormat.Idx,
        NumClasses = 10,
        Channels = 1,
        Height = 28,
        Width = 28,
        Mean = [0.1307f],
        Std = [0.3081f],
        AugmentTraining = false,
        SubFolders = ["mnist"],
        TrainFiles = IdxTrain,
        TestFiles = IdxTest,
        Download = new DownloadSource("https://ossci-datasets.s3.amazonaws.com/mnist/",
        [
            new("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            new("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
            new("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
            new("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
        ], IsTarGzArchive: false),
    };

    public static DatasetInfo FashionMnist { get; } = new()
    {
        Name = "fashion_mnist",
        DisplayName = "Fashion-MNIST",
        Format = DatasetFileFormat.Idx,
        NumClasses = 10,
        Channels = 1,
        Height = 28,
        Width = 28,
        Mean = [0.2860f],
        Std = [0.3530f],
        AugmentTraining = false,
        SubFolders = ["fashion-mnist", "fashion_mnist"],
        TrainFiles = IdxTrain,
        TestFiles = IdxTest,
        Download = new DownloadSource("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        [
            new("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            new("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            new("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            new("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ], IsTarGzArchive: false),
        SystemFolders = ["/usr/share/datasets/fashion-mnist"],
        SystemPackage = "dataset-fashion-mnist",
    };

    public static DatasetInfo Cifar10 { get; } = new()
    {
        Name = "cifar10",
        DisplayName = "CIFAR-10",
        Format = DatasetFileFormat.Cifar10Binary,
        NumClasses = 10,
        Channels = 3,
        Height = 32,
        Width = 32,
        Mean = [0.4914f, 0.4822f, 0.4465f],
        Std = [0.2470f, 0.2435f, 0.2616f],
        AugmentTraining = true,
        SubFolders = ["cifar-10-batches-bin", "cifar10"],
        TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        TestFiles = ["test_batch.bin"],
        Download = new DownloadSource("https://www.cs.toronto.edu/~kriz/",
            [new("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")], IsTarGzArchive: true),
    };

    public static DatasetInfo Cifar100 { get; } = new()
    {
        Name = "cifar100",
        DisplayName = "CIFAR-100",
        Format = DatasetFileFormat.Cifar100Binary,
        NumClasses = 100,
        Channels = 3,
        Height = 32,
        Width = 32,
        Mean = [0.5071f, 0.4865f, 0.4409f],
        Std = [0.2673f, 0.2564f, 0.2762f],
        AugmentTraining = true,
        SubFolders = ["cifar-100-binary", "cifar100"],
        TrainFiles = ["train.bin"],
        TestFiles = ["test.bin"],
        Download = new DownloadSource("https://www.cs.toronto.edu/~kriz/",
            [new("cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecb0e1cd2a")], IsTarGzArchive: true),
    };

    /// <summary>All datasets, in the order they are listed to users.</summary>
    public static IReadOnlyList<DatasetInfo> All { get; } = [Mnist, FashionMnist, Cifar10, Cifar100];

    /// <summary>The valid dataset names.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    /// <summary>Looks a dataset up by name (case-insensitive).</summary>
    public static bool TryGet(string? name, [NotNullWhen(true)] out DatasetInfo? info)
    {
        info = All.FirstOrDefault(d => string.Equals(d.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return info is not null;
    }

    /// <summary>Looks a dataset up by name (case-insensitive); an unknown name throws <see cref="ArgumentException"/> listing the valid names.</summary>
    public static DatasetInfo Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out var info)
            ? info
            : throw new ArgumentException($"Unknown dataset '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));
    }
}
