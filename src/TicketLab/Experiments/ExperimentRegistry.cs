using TicketLab.Experiments.Kinds;
using TicketLab.Store;

namespace TicketLab.Experiments;

/// <summary>Every kind of experiment the store holds. <c>list</c>, <c>report</c> and name resolution read this list.</summary>
public static class ExperimentRegistry
{
    public static IReadOnlyList<ExperimentKind> All { get; } =
    [
        new TrainingExperiment(),
        new RewindParentExperiment(),
        new LotteryExperiment(),
        new InstabilityExperiment(),
        new RewindSweepExperiment(),
    ];

    public static ExperimentKind Get(string name) =>
        All.FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"unknown experiment kind '{name}'. Known: {string.Join(", ", All.Select(k => k.Name))}.");

    /// <summary>The kind of a store entry (folder or file), or null when it is not an experiment.</summary>
    public static ExperimentKind? KindOf(string path)
    {
        string name = Path.GetFileName(path);
        bool isFile = File.Exists(path);
        return All.FirstOrDefault(k => k.Owns(name, isFile));
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
