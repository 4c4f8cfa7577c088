using System.Text;

namespace TicketLab.Data;

/// <summary>
/// Finds the folder that holds a dataset's files. Roots are searched in this order:
/// the explicit data directory (<c>--data-dir</c>), the <c>TICKETLAB_DATA</c> environment variable
/// (several folders may be separated by <see cref="Path.PathSeparator"/>), the per-user data folder
/// (<see cref="UserDataRoot"/>), any extra roots given to the constructor, and finally the dataset's
/// system folders (e.g. <c>/usr/share/datasets/fashion-mnist</c> from the Debian package
/// <c>dataset-fashion-mnist</c>). In each root the dataset's sub-folders are checked first, then the
/// root itself, so a data directory may point either at a parent folder or at the files.
/// </summary>
public sealed class DataLocator
{
    /// <summary>Environment variable naming data roots.</summary>
    public const string DataEnvironmentVariable = "TICKETLAB_DATA";

    private readonly Func<string, string?> getEnvironmentVariable;
    private readonly IReadOnlyList<string> extraRoots;
    private readonly bool useSystemFolders;

    /// <summary>A locator that reads the real environment and searches system folders.</summary>
    public DataLocator()
        : this(Environment.GetEnvironmentVariable)
    {
    }

    /// <param name="getEnvironmentVariable">Environment lookup (for <c>TICKETLAB_DATA</c>, <c>XDG_DATA_HOME</c>, <c>HOME</c>).</param>
    /// <param name="extraRoots">Roots searched after the per-user folder and before system folders.</param>
    /// <param name="useSystemFolders">Whether to search the datasets' system folders last.</param>
    public DataLocator(Func<string, string?> getEnvironmentVariable, IReadOnlyList<string>? extraRoots = null, bool useSystemFolders = true)
    {
        this.getEnvironmentVariable = getEnvironmentVariable;
        this.extraRoots = extraRoots ?? [];
        this.useSystemFolders = useSystemFolders;
    }

    /// <summary>
    /// The per-user data folder of this process: <c>$XDG_DATA_HOME/ticketlab/datasets</c>, or
    /// <c>~/.local/share/ticketlab/datasets</c> when <c>XDG_DATA_HOME</c> is unset or not absolute.
    /// </summary>
    public static string UserDataRoot => UserDataRootFrom(Environment.GetEnvironmentVariable);

    /// <summary>The per-user data folder as seen by this locator's environment lookup.</summary>
    public string UserDataFolder => UserDataRootFrom(getEnvironmentVariable);

    /// <summary>The per-user data folder for the given environment lookup.</summary>
    public static string UserDataRootFrom(Func<string, string?> getEnvironmentVariable)
    {
        var xdg = getEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "ticketlab", "datasets");
        }

        var home = getEnvironmentVariable("HOME");
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return Path.Combine(home, ".local", "share", "ticketlab", "datasets");
    }

    /// <summary>
    /// The root a download goes to: the explicit data directory, else the first
    /// <c>TICKETLAB_DATA</c> folder, else the per-user data folder.
    /// </summary>
    public string DownloadRoot(string? dataDir)
    {
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            return Path.GetFullPath(dataDir);
        }

        return EnvironmentRoots().FirstOrDefault() ?? UserDataFolder;
    }

    /// <summary>
    /// The roots searched for a dataset, in order, without duplicates. A folder the user names
    /// (<c>--data-dir</c>) is the only root: falling back to another copy would train on data the
    /// user did not ask for.
    /// </summary>
    public IReadOnlyList<string> Roots(DatasetInfo info, string? dataDir)
    {
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            return Distinct([dataDir]);
        }

        var roots = new List<string>();

        roots.AddRange(EnvironmentRoots());
        roots.Add(UserDataFolder);
        roots.AddRange(extraRoots);
        if (useSystemFolders)
        {
            roots.AddRange(info.SystemFolders);
        }

        return Distinct(roots);
    }

    /// <summary>Every folder checked for the dataset's files, in order: per root, its sub-folders then the root.</summary>
    public IReadOnlyList<string> CandidateFolders(DatasetInfo info, string? dataDir) =>
        Distinct(Roots(info, dataDir).SelectMany(root => info.SubFolders.Select(sub => Path.Combine(root, sub)).Append(root)));

    /// <summary>The first candidate folder that holds all the dataset's files, or null.</summary>
    public string? TryLocate(DatasetInfo info, string? dataDir) =>
        CandidateFolders(info, dataDir).FirstOrDefault(folder => MissingFiles(info, folder).Count == 0);

    /// <summary>The first candidate folder that holds all the dataset's files.</summary>
    /// <exception cref="DatasetNotFoundException">No folder does; the message lists the folders and the fixes.</exception>
    public string Locate(DatasetInfo info, string? dataDir) =>
        TryLocate(info, dataDir) ?? throw NotFound(info, dataDir);

    /// <summary>The path of a dataset file in a folder (for IDX also as <c>name.gz</c>), or null.</summary>
    public static string? FindFile(DatasetInfo info, string folder, string fileName)
    {
        var plain = Path.Combine(folder, fileName);
        if (File.Exists(plain))
        {
            return plain;
        }

        var gz = plain + ".gz";
        return info.AllowsGzipFiles && File.Exists(gz) ? gz : null;
    }

    /// <summary>The path of a dataset file in a folder; throws <see cref="DatasetNotFoundException"/> if absent.</summary>
    public static string RequireFile(DatasetInfo info, string folder, string fileName) =>
        FindFile(info, folder, fileName)
        ?? throw new DatasetNotFoundException(info.Name, [folder], $"{Path.Combine(folder, fileName)}: file not found (dataset {info.Name}).");

    /// <summary>The dataset files a folder lacks (all of them when the folder does not exist).</summary>
    public static IReadOnlyList<string> MissingFiles(DatasetInfo info, string folder) =>
        Directory.Exists(folder)
            ? info.AllFiles.Where(f => FindFile(info, folder, f) is null).ToArray()
            : info.AllFiles.ToArray();

    /// <summary>The exception <see cref="Locate"/> throws when nothing is found.</summary>
    public DatasetNotFoundException NotFound(DatasetInfo info, string? dataDir)
    {
        var folders = CandidateFolders(info, dataDir);
        var gz = info.AllowsGzipFiles ? " (each plain or .gz)" : "";
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            // One line: the folder the user named is the only place looked at.
            var root = Path.GetFullPath(dataDir);
            var state = !Directory.Exists(root) ? "does not exist"
                : folders.Select(f => (Folder: f, Missing: MissingFiles(info, f))).MinBy(f => f.Missing.Count) is var best && best.Missing.Count < info.AllFiles.Count()
                    ? $"{best.Folder} lacks {string.Join(", ", best.Missing)}"
                    : $"holds no {info.Name} files";
            return new DatasetNotFoundException(info.Name, folders,
                $"--data-dir {root}: {state}; it is the only place looked at when given (looked in {string.Join(", ", folders)}). "
                + $"Put {string.Join(", ", info.AllFiles)}{gz} there (or in a sub-folder {string.Join(" or ", info.SubFolders)}), "
                + "pass --data-dir the folder that holds them, add --download to fetch them there, or leave --data-dir out.");
        }

        // The first line stands alone (the CLI prints only it): every folder looked in and every way to fix it.
        var package = info.SystemPackage is null ? "" : $", or apt-get install {info.SystemPackage}";
        var message = new StringBuilder()
            .Append($"Dataset '{info.Name}' ({info.DisplayName}) not found; looked in {string.Join(", ", folders)}. ")
            .Append($"Pass --data-dir DIR where DIR holds {string.Join(", ", info.AllFiles)}{gz} or a sub-folder {string.Join(" or ", info.SubFolders)} with them, "
                + $"set {DataEnvironmentVariable}=DIR, add --download{package}.\n")
            .Append($"Looked for {string.Join(", ", info.AllFiles)}{gz} in:\n");
        foreach (var folder in folders)
        {
            var missing = MissingFiles(info, folder);
            var note = !Directory.Exists(folder) ? "does not exist"
                : missing.Count == info.AllFiles.Count() ? "no dataset files"
                : $"incomplete, missing {string.Join(", ", missing)}";
            message.Append($"  {folder}  ({note})\n");
        }

        message.Append("To fix, do one of:\n")
            .Append($"  - pass --data-dir DIR, where DIR holds the files or one of the sub-folders {string.Join(", ", info.SubFolders)}\n")
            .Append($"  - set the environment variable {DataEnvironmentVariable}=DIR\n")
            .Append($"  - pass --download to fetch it from {info.Download.BaseUrl} into {DownloadRoot(dataDir)}\n");
        if (info.SystemPackage is not null)
        {
            message.Append($"  - install the system package: apt-get install {info.SystemPackage} (files go to {string.Join(", ", info.SystemFolders)})\n");
        }

        return new DatasetNotFoundException(info.Name, folders, message.ToString().TrimEnd('\n'));
    }

    private IEnumerable<string> EnvironmentRoots() =>
        (getEnvironmentVariable(DataEnvironmentVariable) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Path.GetFullPath);

    private static IReadOnlyList<string> Distinct(IEnumerable<string> paths) =>
        paths.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct(StringComparer.Ordinal).ToArray();
}
