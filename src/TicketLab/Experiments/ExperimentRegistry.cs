using TicketLab.Experiments.Kinds;
using TicketLab.Store;

namespace TicketLab.Experiments;

/// <summary>
/// Every kind of experiment. The CLI makes a command of each kind that has one, study files name
/// them (<c>command = "lottery"</c>), and <c>list</c>, <c>report</c> and name resolution read this list.
/// Adding a kind: a class deriving from <see cref="ExperimentKind{THparams}"/> and a line here (or,
/// from another assembly, <see cref="Register"/> before the CLI is built). docs/experiments.md shows one.
/// </summary>
public static class ExperimentRegistry
{
    private static readonly Lock Gate = new();
    private static IReadOnlyList<ExperimentKind> all =
    [
        new TrainingExperiment(),
        new RewindParentExperiment(),
        new LotteryExperiment(),
        new InstabilityExperiment(),
        new RewindSweepExperiment(),
    ];

    public static IReadOnlyList<ExperimentKind> All => all;

    /// <summary>Adds a kind defined outside the library (a plug-in, a test). Its name and command must be new.</summary>
    public static void Register(ExperimentKind kind)
    {
        lock (Gate)
        {
            if (all.Any(k => k.Name == kind.Name && k.GetType() == kind.GetType())) return;
            if (all.Any(k => k.Name == kind.Name || k.Name.StartsWith(kind.Name + "_", StringComparison.Ordinal) || kind.Name.StartsWith(k.Name + "_", StringComparison.Ordinal)))
                throw new ArgumentException($"an experiment kind named '{kind.Name}' (or one whose store names it would share) is already registered.");
            all = [.. all, kind];
        }
    }

    /// <summary>Takes back a kind added with <see cref="Register"/> (tests that add one put the registry back as it was).</summary>
    public static void Unregister(string name)
    {
        lock (Gate) all = [.. all.Where(k => k.Name != name)];
    }

    public static ExperimentKind Get(string name) =>
        All.FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"unknown experiment kind '{name}'. Known: {string.Join(", ", All.Select(k => k.Name))}.");

    /// <summary>The kind of a store entry (folder or file), or null when it is not an experiment.</summary>
    public static ExperimentKind? KindOf(string path)
    {
        string name = Path.GetFileName(path);
        bool isFile = File.Exists(path);
        // The longest matching prefix wins: rewind_parent_* is not a train_* or a rewind_* entry.
        return All.Where(k => k.Owns(name, isFile)).MaxBy(k => k.Name.Length);
    }

    /// <summary>Every experiment in the store, in name order.</summary>
    public static IEnumerable<ExperimentRef> Experiments(ExperimentStore store)
    {
        if (!Directory.Exists(store.Root)) yield break;
        foreach (var path in Directory.EnumerateFileSystemEntries(store.Root).Order(StringComparer.Ordinal))
            if (KindOf(path) is { } kind)
                yield return new ExperimentRef(kind, path, Path.GetFileName(path).Replace(".json", ""));
    }
}
