namespace TicketLab.Store;

/// <summary>
/// The folder that holds every result, one sub-folder per experiment named by the hash of its
/// hyperparameters (<c>train_1a2b.../replicate_1</c>). Chosen by --root, then TICKETLAB_ROOT,
/// then a per-user folder.
/// </summary>
public sealed class ExperimentStore(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public static string DefaultRoot
    {
        get
        {
            string? data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            if (string.IsNullOrEmpty(data))
                data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(data, "ticketlab", "experiments");
        }
    }

    public static ExperimentStore Resolve(string? root)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("TICKETLAB_ROOT");
        var store = new ExperimentStore(root ?? (string.IsNullOrEmpty(fromEnvironment) ? DefaultRoot : fromEnvironment));
        // A store that is a file would read as an empty store: every command refuses it instead.
        if (File.Exists(store.Root))
            throw new StoreException($"{(root is not null ? "--root" : string.IsNullOrEmpty(fromEnvironment) ? "the default store" : "TICKETLAB_ROOT")} {store.Root} is a file, not a folder. Give the store's folder with --root (or TICKETLAB_ROOT).");
        return store;
    }

    /// <summary>
    /// Checks, before any work, that results can be written here: the root is a folder (created if
    /// missing) in which a file can be made. Problems are a <see cref="StoreException"/> naming the root.
    /// </summary>
    public void EnsureWritable()
    {
        const string fix = "Give a writable folder with --root (or TICKETLAB_ROOT).";
        if (File.Exists(Root)) throw new StoreException($"--root {Root} is a file, not a folder. {fix}");
        string probe = Path.Combine(Root, $".write-probe.{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(Root);
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"--root {Root}: cannot write there ({e.Message.TrimEnd('.')}). {fix}", e);
        }
    }

    public string ExperimentFolder(string runName) => Path.Combine(Root, runName);

    /// <summary>The name a run folder's manifest and checkpoints carry: its path relative to the root, '/' separated (a moved store keeps its names).</summary>
    public string RunName(string runFolder) => Path.GetRelativePath(Root, Path.GetFullPath(runFolder)).Replace('\\', '/');

    public string ReplicateFolder(string runName, int replicate) => Path.Combine(Root, runName, $"replicate_{replicate}");

    /// <summary>The replicate number a folder's name gives (<c>replicate_3</c>: 3), or null when it names none.</summary>
    public static int? ReplicateNumber(string folder) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) is var name && name.StartsWith("replicate_", StringComparison.Ordinal)
        && int.TryParse(name["replicate_".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : null;

    /// <summary>The replicate folders of an experiment folder, with their numbers, in numeric order (none when it does not exist).</summary>
    public static IReadOnlyList<(int Number, string Folder)> Replicates(string experimentFolder) =>
        Directory.Exists(experimentFolder)
            ? Directory.EnumerateDirectories(experimentFolder, "replicate_*")
                .Select(d => (Number: ReplicateNumber(d), Folder: d)).Where(r => r.Number is not null)
                .Select(r => (r.Number!.Value, r.Folder)).OrderBy(r => r.Value).ToArray()
            : [];

    /// <summary>Every replicate folder in the store with a readable hparams.json.</summary>
    public IEnumerable<RunFolder> Runs()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var experiment in Directory.EnumerateDirectories(Root).Order())
            foreach (var replicate in Directory.EnumerateDirectories(experiment, "replicate_*").Order())
                yield return new RunFolder(replicate);
    }
}
