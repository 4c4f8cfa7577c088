using TicketLab.Data;
using static TicketLab.Tests.Data.DataFixtures;

namespace TicketLab.Tests.Data;

public sealed class DatasetDownloaderTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        http.Dispose();
        dir.Dispose();
    }

    /// <summary>The four gzip IDX files of a small dataset, by download file name.</summary>
    private static Dictionary<string, byte[]> IdxFiles(string folder)
    {
        WriteIdxDataset(folder, gzip: true);
        return Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
    }

    private static DatasetInfo WithChecksums(DatasetInfo info, IReadOnlyDictionary<string, byte[]> files) =>
        info with { Download = info.Download with { Files = info.Download.Files.Select(f => f with { Md5 = Md5Hex(files[f.FileName]) }).ToArray() } };

    [Fact]
    public void DownloadsIdxFilesThroughMirrorVariableAndVerifiesThem()
    {
        var files = IdxFiles(dir.Sub("source"));
        using var server = new LoopbackHttpServer(files);
        var info = WithChecksums(DatasetCatalog.Mnist, files);
        var log = new List<string>();
        var downloader = new DatasetDownloader(http, getEnvironmentVariable: Env((DatasetDownloader.MirrorEnvironmentVariable, server.BaseUrl.TrimEnd('/'))), log: log.Add);

        var folder = downloader.Download(info, dir.Sub("root"));

        Assert.Equal(dir.Sub("root", "mnist"), folder);
        Assert.Equal(files.Keys.Select(k => Path.Combine("mnist", k)).Order(StringComparer.Ordinal), FilesUnder(dir.Sub("root")));
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(folder, name)));
        }

        Assert.Equal(info.Download.Files.Select(f => "/" + f.FileName), server.Requests);
        Assert.Contains(log, l => l.StartsWith("Downloading " + server.BaseUrl, StringComparison.Ordinal));
        var (train, test) = DatasetLoader.LoadFromFolder(info, folder, null);
        using (train)
        using (test)
        {
            Assert.Equal((12, 5), (train.Count, test.Count));
        }
    }

    [Fact]
    public void BaseUrlPrecedenceIsMappingThenMirrorThenOfficial()
    {
        var mirror = Env((DatasetDownloader.MirrorEnvironmentVariable, "http://mirror.example/data"));
        var mapped = new DatasetDownloader(http, new Dictionary<string, string> { ["mnist"] = "http://mapped.example/m/" }, mirror);
        var mirrored = new DatasetDownloader(http, getEnvironmentVariable: mirror);
        var official = new DatasetDownloader(http, getEnvironmentVariable: Env());
        var file = DatasetCatalog.Mnist.Download.Files[0];

        Assert.Equal("http://mapped.example/m/train-images-idx3-ubyte.gz", mapped.ResolveUrl(DatasetCatalog.Mnist, file).ToString());
        Assert.Equal("http://mirror.example/data/cifar-10-binary.tar.gz", mapped.ResolveUrl(DatasetCatalog.Cifar10, DatasetCatalog.Cifar10.Download.Files[0]).ToString());
        Assert.Equal("http://mirror.example/data/train-images-idx3-ubyte.gz", mirrored.ResolveUrl(DatasetCatalog.Mnist, file).ToString());
        Assert.Equal("https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz", official.ResolveUrl(DatasetCatalog.Mnist, file).ToString());
        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            official.ResolveUrl(DatasetCatalog.Cifar100, DatasetCatalog.Cifar100.Download.Files[0]).ToString());
    }

    [Fact]
    public void DownloadsAndExtractsCifarTarGz()
    {
        WriteCifar10Dataset(dir.Sub("source"), perBatch: 2, testCount: 3);
        var entries = Directory.GetFiles(dir.Sub("source")).Select(f => ($"cifar-10-batches-bin/{Path.GetFileName(f)}", File.ReadAllBytes(f)))
            .Append(("cifar-10-batches-bin/batches.meta.txt", "airplane\n"u8.ToArray())).ToArray();
        var archive = TarGz(entries);
        using var server = new LoopbackHttpServer(new Dictionary<string, byte[]> { ["kriz/cifar-10-binary.tar.gz"] = archive });
        var info = DatasetCatalog.Cifar10 with
        {
            Download = DatasetCatalog.Cifar10.Download with { Files = [new("cifar-10-binary.tar.gz", Md5Hex(archive).ToUpperInvariant())] },
        };
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["cifar10"] = server.BaseUrl + "kriz" }, Env());

        var folder = downloader.Download(info, dir.Sub("root"));

        Assert.Equal(dir.Sub("root", "cifar-10-batches-bin"), folder);
        Assert.Equal(entries.Select(e => e.Item1.Replace('/', Path.DirectorySeparatorChar)).Order(StringComparer.Ordinal), FilesUnder(dir.Sub("root")));
        Assert.Equal(File.ReadAllBytes(dir.Sub("source", "data_batch_4.bin")), File.ReadAllBytes(Path.Combine(folder, "data_batch_4.bin")));
        var (train, test) = DatasetLoader.LoadFromFolder(info, folder, null);
        using (train)
        using (test)
        {
            Assert.Equal((10, 3), (train.Count, test.Count));
        }
    }

    [Fact]
    public void ChecksumMismatchThrowsAndLeavesNothing()
    {
        var files = IdxFiles(dir.Sub("source"));
        using var server = new LoopbackHttpServer(files);
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["mnist"] = server.BaseUrl }, Env());

        // The real MNIST checksums cannot match the synthetic files.
        var e = Assert.Throws<DatasetFormatException>(() => downloader.Download(DatasetCatalog.Mnist, dir.Sub("root")));

        var url = server.BaseUrl + "train-images-idx3-ubyte.gz";
        Assert.Equal(
            $"{url}: checksum mismatch for train-images-idx3-ubyte.gz: expected md5 f68b3c2dcbeaaa9fbdd348bbdeb94873, got {Md5Hex(files["train-images-idx3-ubyte.gz"])}",
            e.Message);
        Assert.False(Directory.Exists(dir.Sub("root")));
    }

    [Fact]
    public void MismatchOnALaterFileLeavesNoEarlierFiles()
    {
        var files = IdxFiles(dir.Sub("source"));
        using var server = new LoopbackHttpServer(files);
        var good = WithChecksums(DatasetCatalog.Mnist, files);
        var files3 = good.Download.Files.ToArray();
        files3[2] = files3[2] with { Md5 = new string('0', 32) };
        var info = good with { Download = good.Download with { Files = files3 } };
        Directory.CreateDirectory(dir.Sub("root"));
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["mnist"] = server.BaseUrl }, Env());

        var e = Assert.Throws<DatasetFormatException>(() => downloader.Download(info, dir.Sub("root")));

        Assert.Contains("t10k-images-idx3-ubyte.gz", e.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Sub("root")));
    }

    [Fact]
    public void HttpErrorNamesUrlAndLeavesNothing()
    {
        using var server = new LoopbackHttpServer(new Dictionary<string, byte[]>());
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["cifar100"] = server.BaseUrl }, Env());

        var e = Assert.Throws<HttpRequestException>(() => downloader.Download(DatasetCatalog.Cifar100, dir.Sub("root")));

        Assert.Contains(server.BaseUrl + "cifar-100-binary.tar.gz", e.Message);
        Assert.Contains("404", e.Message);
        Assert.Empty(FilesUnder(dir.Sub("root")));
    }

    [Fact]
    public void ArchiveWithoutExpectedFolderIsRejected()
    {
        var archive = TarGz([("wrong-folder/test.bin", new byte[3074])]);
        using var server = new LoopbackHttpServer(new Dictionary<string, byte[]> { ["cifar-100-binary.tar.gz"] = archive });
        var info = DatasetCatalog.Cifar100 with
        {
            Download = DatasetCatalog.Cifar100.Download with { Files = [new("cifar-100-binary.tar.gz", Md5Hex(archive))] },
        };
        var downloader = new DatasetDownloader(http, new Dictionary<string, string> { ["cifar100"] = server.BaseUrl }, Env());

        var e = Assert.Throws<DatasetFormatException>(() => downloader.Download(info, dir.Sub("root")));

        Assert.Contains("cifar-100-binary.tar.gz", e.Message);
        Assert.Contains("does not contain the folder cifar-100-binary/", e.Message);
        Assert.Empty(FilesUnder(dir.Sub("root")));
    }
}
