using TicketLab.Data;
using static TicketLab.Tests.Data.DataFixtures;

namespace TicketLab.Tests.Data;

public sealed class DataLocatorTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private DataLocator Locator(string? ticketlabData = null, bool system = false, params string[] extraRoots)
    {
        var env = new List<(string, string)> { ("XDG_DATA_HOME", dir.Sub("xdg")), ("HOME", dir.Sub("home")) };
        if (ticketlabData is not null)
        {
            env.Add((DataLocator.DataEnvironmentVariable, ticketlabData));
        }

        return new DataLocator(Env([.. env]), extraRoots, useSystemFolders: system);
    }

    [Fact]
    public void UserDataRootFollowsXdgThenHome()
    {
        Assert.Equal("/x/ticketlab/datasets", DataLocator.UserDataRootFrom(Env(("XDG_DATA_HOME", "/x"), ("HOME", "/h"))));
        Assert.Equal("/h/.local/share/ticketlab/datasets", DataLocator.UserDataRootFrom(Env(("HOME", "/h"))));
        Assert.Equal("/h/.local/share/ticketlab/datasets", DataLocator.UserDataRootFrom(Env(("XDG_DATA_HOME", "relative"), ("HOME", "/h"))));
        Assert.EndsWith(Path.Combine("ticketlab", "datasets"), DataLocator.UserDataRoot);
    }

    [Fact]
    public void RootsAndFoldersAreSearchedInOrder()
    {
        var locator = new DataLocator(
            Env(("XDG_DATA_HOME", "/xdg"), (DataLocator.DataEnvironmentVariable, "/env1:/env2")),
            extraRoots: ["/extra"]);

        Assert.Equal(["/env1", "/env2", "/xdg/ticketlab/datasets", "/extra", "/usr/share/datasets/fashion-mnist"],
            locator.Roots(DatasetCatalog.FashionMnist, null));
        // A folder the user names is the only root: no silent fallback to another copy.
        Assert.Equal(["/explicit"], locator.Roots(DatasetCatalog.FashionMnist, "/explicit"));
        Assert.Equal(["/env1", "/env2", "/xdg/ticketlab/datasets", "/extra"], locator.Roots(DatasetCatalog.Mnist, null));
        Assert.Equal(
            ["/d/cifar-10-batches-bin", "/d/cifar10", "/d"],
            locator.CandidateFolders(DatasetCatalog.Cifar10, "/d"));
    }

    [Fact]
    public void EarlierRootWins()
    {
        var user = Path.Combine(dir.Sub("xdg"), "ticketlab", "datasets");
        WriteIdxDataset(Path.Combine(user, "mnist"));
        WriteIdxDataset(dir.Sub("env", "mnist"));
        WriteIdxDataset(dir.Sub("explicit", "mnist"));
        WriteIdxDataset(dir.Sub("extra", "mnist"));

        Assert.Equal(dir.Sub("explicit", "mnist"), Locator(dir.Sub("env"), false, dir.Sub("extra")).Locate(DatasetCatalog.Mnist, dir.Sub("explicit")));
        Assert.Equal(dir.Sub("env", "mnist"), Locator(dir.Sub("env"), false, dir.Sub("extra")).Locate(DatasetCatalog.Mnist, null));
        Assert.Equal(Path.Combine(user, "mnist"), Locator(null, false, dir.Sub("extra")).Locate(DatasetCatalog.Mnist, null));
        Directory.Delete(user, recursive: true);
        Assert.Equal(dir.Sub("extra", "mnist"), Locator(null, false, dir.Sub("extra")).Locate(DatasetCatalog.Mnist, null));
    }

    [Fact]
    public void DataDirMayPointAtTheFilesOrAnAlternativeSubFolder()
    {
        WriteIdxDataset(dir.Sub("plain"), gzip: false);
        WriteIdxDataset(dir.Sub("root", "fashion_mnist"));

        Assert.Equal(dir.Sub("plain"), Locator().Locate(DatasetCatalog.FashionMnist, dir.Sub("plain")));
        Assert.Equal(dir.Sub("root", "fashion_mnist"), Locator().Locate(DatasetCatalog.FashionMnist, dir.Sub("root")));
        Assert.Equal(dir.Sub("plain", "train-images-idx3-ubyte"), DataLocator.FindFile(DatasetCatalog.FashionMnist, dir.Sub("plain"), "train-images-idx3-ubyte"));
        Assert.Equal(dir.Sub("root", "fashion_mnist", "train-images-idx3-ubyte.gz"),
            DataLocator.FindFile(DatasetCatalog.FashionMnist, dir.Sub("root", "fashion_mnist"), "train-images-idx3-ubyte"));
    }

    [Fact]
    public void CifarFilesAreNotLookedUpWithGzSuffix()
    {
        Write(dir.Sub("c", "test_batch.bin.gz"), [1]);
        Assert.Null(DataLocator.FindFile(DatasetCatalog.Cifar10, dir.Sub("c"), "test_batch.bin"));
    }

    [Fact]
    public void IncompleteFolderIsSkippedAndReported()
    {
        WriteIdxDataset(dir.Sub("partial", "mnist"));
        File.Delete(dir.Sub("partial", "mnist", "t10k-labels-idx1-ubyte.gz"));

        var locator = Locator();
        Assert.Null(locator.TryLocate(DatasetCatalog.Mnist, dir.Sub("partial")));
        var e = Assert.Throws<DatasetNotFoundException>(() => locator.Locate(DatasetCatalog.Mnist, dir.Sub("partial")));
        Assert.Contains($"{dir.Sub("partial", "mnist")} lacks t10k-labels-idx1-ubyte", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void NotFoundMessageListsFoldersAndFixes()
    {
        var locator = Locator(dir.Sub("env"), system: true, dir.Sub("extra"));
        var info = DatasetCatalog.FashionMnist with { SystemFolders = [dir.Sub("system")] };

        var e = Assert.Throws<DatasetNotFoundException>(() => locator.Locate(info, null));

        Assert.Equal("fashion_mnist", e.DatasetName);
        Assert.Equal(locator.CandidateFolders(info, null), e.SearchedFolders);
        Assert.Equal(dir.Sub("system"), e.SearchedFolders[^1]);
        foreach (var folder in e.SearchedFolders)
        {
            Assert.Contains(folder, e.Message);
        }

        Assert.Contains(dir.Sub("env", "fashion_mnist"), e.Message);
        Assert.Contains(Path.Combine(dir.Sub("xdg"), "ticketlab", "datasets", "fashion-mnist"), e.Message);
        Assert.Contains(dir.Sub("extra"), e.Message);
        Assert.Contains("--data-dir DIR", e.Message);
        Assert.Contains("TICKETLAB_DATA", e.Message);
        Assert.Contains("--download", e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void NotFoundLineTheCliPrintsNamesEveryFolderAndWhatToPass()
    {
        var locator = Locator(dir.Sub("env"), system: true, dir.Sub("extra"));
        var info = DatasetCatalog.FashionMnist with { SystemFolders = [dir.Sub("system")] };
        var e = Assert.Throws<DatasetNotFoundException>(() => locator.Locate(info, null));
        var (code, line) = TicketLab.Cli.Commands.CommandErrors.Classify(e);

        Assert.Equal(TicketLab.Cli.Commands.CommandErrors.DataError, code);
        Assert.Equal(e.Message.Split('\n')[0], line);
        Assert.Equal(12, e.SearchedFolders.Count); // 4 roots, each with its 2 sub-folders
        foreach (var folder in e.SearchedFolders)
        {
            Assert.Contains(folder + (folder == e.SearchedFolders[^1] ? ". " : ", "), line);
        }

        Assert.Contains("--data-dir DIR", line);
        Assert.Contains("TICKETLAB_DATA=DIR", line);
        Assert.Contains("--download", line);

        // With --data-dir the one line names the folder and the sub-folders looked in.
        var explicitDir = Assert.Throws<DatasetNotFoundException>(() => locator.Locate(info, dir.Sub("nothing")));
        Assert.DoesNotContain("\n", explicitDir.Message);
        Assert.Equal([dir.Sub("nothing", "fashion-mnist"), dir.Sub("nothing", "fashion_mnist"), dir.Sub("nothing")], explicitDir.SearchedFolders);
        foreach (var folder in explicitDir.SearchedFolders)
        {
            Assert.Contains(folder, explicitDir.Message);
        }

        Assert.Contains("pass --data-dir the folder that holds them", explicitDir.Message);
    }

    [Fact]
    public void NotFoundMessageWithoutSystemPackageForMnist()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => Locator().Locate(DatasetCatalog.Mnist, null));

        Assert.Contains("--data-dir DIR", e.Message);
        Assert.Contains("TICKETLAB_DATA", e.Message);
        Assert.Contains("--download", e.Message);
        Assert.DoesNotContain("apt-get", e.Message);
    }

    [Fact]
    public void DownloadRootPrefersDataDirThenEnvironmentThenUserFolder()
    {
        Assert.Equal(dir.Sub("d"), Locator(dir.Sub("env")).DownloadRoot(dir.Sub("d")));
        Assert.Equal(dir.Sub("env"), Locator(dir.Sub("env")).DownloadRoot(null));
        Assert.Equal(Path.Combine(dir.Sub("xdg"), "ticketlab", "datasets"), Locator().DownloadRoot(null));
    }
}
