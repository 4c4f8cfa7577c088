namespace TicketLab.Data;

/// <summary>Raw uint8 pixels (image after image, C x H x W) and labels of one split, read from <see cref="Files"/>.</summary>
public sealed class RawSplit
{
    public RawSplit(IReadOnlyList<string> files, byte[] pixels, byte[] labels)
    {
        Files = files;
        Pixels = pixels;
        Labels = labels;
    }

    public IReadOnlyList<string> Files { get; }

    public byte[] Pixels { get; }

    public byte[] Labels { get; }

    public int Count => Labels.Length;
}

/// <summary>Locates (and if asked downloads), reads, validates and converts a dataset into tensors.</summary>
public static class DatasetLoader
{
    /// <summary>
    /// Loads the training and test splits of a dataset by catalog name.
    /// </summary>
    /// <param name="name">A <see cref="DatasetCatalog"/> name, e.g. <c>fashion_mnist</c>.</param>
    /// <param name="dataDir">Explicit data directory searched first (<c>--data-dir</c>); also the download root when given.</param>
    /// <param name="download">Download the dataset when it is not found.</param>
    /// <param name="trainSubset">Keep only the first N training examples.</param>
    /// <param name="http">Client for downloads; a temporary one is created when null and a download is needed.</param>
    /// <param name="log">Receives download progress lines.</param>
    /// <exception cref="ArgumentException">Unknown dataset name, or <paramref name="trainSubset"/> below 1 or above the training set size.</exception>
    /// <exception cref="DatasetNotFoundException">Not found and <paramref name="download"/> is false.</exception>
    /// <exception cref="DatasetFormatException">A file is malformed or a download does not match its checksum.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(
        string name, string? dataDir, bool download, int? trainSubset, HttpClient? http = null, Action<string>? log = null)
    {
        var info = DatasetCatalog.Get(name);
        return Load(info, dataDir, download, trainSubset, new DataLocator(), http is null ? null : new DatasetDownloader(http, log: log), log);
    }

    /// <summary>Loads a dataset with an explicit locator and downloader (a default downloader is created when null).</summary>
    public static (ImageDataset Train, ImageDataset Test) Load(
        DatasetInfo info, string? dataDir, bool download, int? trainSubset, DataLocator locator, DatasetDownloader? downloader, Action<string>? log = null)
    {
        CheckSubsetArgument(trainSubset);
        var folder = locator.TryLocate(info, dataDir);
        if (folder is null)
        {
            if (!download)
            {
                throw locator.NotFound(info, dataDir);
            }

            var root = locator.DownloadRoot(dataDir);
            if (downloader is null)
            {
                using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
                folder = new DatasetDownloader(client, log: log).Download(info, root);
            }
            else
            {
                folder = downloader.Download(info, root);
            }
        }

        return LoadFromFolder(info, folder, trainSubset);
    }

    /// <summary>Reads, validates and converts both splits from a folder holding the dataset's files.</summary>
    public static (ImageDataset Train, ImageDataset Test) LoadFromFolder(DatasetInfo info, string folder, int? trainSubset)
    {
        CheckSubsetArgument(trainSubset);
        var train = ReadSplit(info, folder, info.TrainFiles);
        if (trainSubset is int n)
        {
            if (n > train.Count)
            {
                throw new TrainSubsetTooLargeException(
                    $"--train-subset {n} is larger than the {train.Count} training examples of {info.Name} in {folder}. Give at most {train.Count}, or leave it out to train on all of them.");
            }

            if (n < train.Count)
            {
                train = new RawSplit(train.Files, train.Pixels.AsSpan(0, n * info.ImageSize).ToArray(), train.Labels.AsSpan(0, n).ToArray());
            }
        }

        var test = ReadSplit(info, folder, info.TestFiles);
        foreach (var split in new[] { train, test })
            if (split.Count == 0)
                throw new DatasetFormatException(split.Files[0], $"holds no examples; {info.Name} needs a non-empty training and test split. Replace the file(s) with a good copy (--download fetches one).");
        var trainSet = ImageDataset.FromBytes(info, train.Pixels, train.Labels, [.. train.Files.Select(DataFile.Of)]);
        try
        {
            return (trainSet, ImageDataset.FromBytes(info, test.Pixels, test.Labels, [.. test.Files.Select(DataFile.Of)]));
        }
        catch
        {
            trainSet.Dispose();
            throw;
        }
    }

    /// <summary>Reads and validates one split (<see cref="DatasetInfo.TrainFiles"/> or <see cref="DatasetInfo.TestFiles"/>) from a folder.</summary>
    public static RawSplit ReadSplit(DatasetInfo info, string folder, IReadOnlyList<string> files)
    {
        var paths = files.Select(f => DataLocator.RequireFile(info, folder, f)).ToArray();
        switch (info.Format)
        {
            case DatasetFileFormat.Idx:
                return ReadIdxSplit(info, paths);
            case DatasetFileFormat.Cifar10Binary:
            case DatasetFileFormat.Cifar100Binary:
                var labelBytes = info.Format == DatasetFileFormat.Cifar10Binary ? 1 : 2;
                var batch = CifarReader.Read(paths, labelBytes, labelIndex: labelBytes - 1, info.NumClasses);
                return new RawSplit(paths, batch.Pixels, batch.Labels);
            default:
                throw new NotSupportedException($"Unknown dataset format {info.Format}.");
        }
    }

    private static RawSplit ReadIdxSplit(DatasetInfo info, string[] paths)
    {
        if (paths.Length != 2 || info.Channels != 1)
        {
            throw new NotSupportedException($"An IDX split is one single-channel images file and one labels file; {info.Name} lists {paths.Length} files and {info.Channels} channels.");
        }

        var images = IdxReader.ReadImages(paths[0]);
        var labels = IdxReader.ReadLabels(paths[1]);
        if (images.Rows != info.Height || images.Columns != info.Width)
        {
            throw new DatasetFormatException(images.Path,
                $"images are {images.Rows}x{images.Columns}, expected {info.Height}x{info.Width} for {info.Name}");
        }

        if (images.Count != labels.Count)
        {
            throw new DatasetFormatException(images.Path,
                $"holds {images.Count} images but {labels.Path} holds {labels.Count} labels; the counts must match");
        }

        if (info.NumClasses <= byte.MaxValue)
        {
            var bad = labels.Labels.AsSpan().IndexOfAnyInRange((byte)info.NumClasses, byte.MaxValue);
            if (bad >= 0)
            {
                throw new DatasetFormatException(labels.Path,
                    $"label {labels.Labels[bad]} at index {bad} is out of range; {info.Name} has {info.NumClasses} classes (0..{info.NumClasses - 1}) (images: {images.Path})");
            }
        }

        return new RawSplit(paths, images.Pixels, labels.Labels);
    }

    private static void CheckSubsetArgument(int? trainSubset)
    {
        if (trainSubset is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(trainSubset), trainSubset, "The training subset must hold at least 1 example.");
        }
    }
}
