using System.Text.RegularExpressions;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Experiments.LevelAnalyses;

/// <summary>
/// One trained network of a lottery replicate at a level: IMP's (<c>main</c>) or a branch's
/// (<c>random_reinit_&lt;hash&gt;</c>). Its mask is the branch's own when it stores one (a random
/// mask), else the level's; its initialization is the state it started training from, saved in its own
/// folder at the rewind step (for IMP the rewound weights, for a re-initialized branch its fresh ones).
/// </summary>
public sealed record LotteryNetwork(string Id, int Level, RunFolder Folder, string MaskPath)
{
    // The mask lies in the run folder that wrote it (the branch's own, or the level's main run).
    public Mask LoadMask() => Mask.Load(new RunFolder(Path.GetDirectoryName(MaskPath)!).Verified(MaskPath));
    public Dictionary<string, Tensor> LoadTrained() => Folder.LoadTensors(Folder.FinalModelPath);
    public Dictionary<string, Tensor> LoadInitial(Step start) =>
        Folder.LoadTensors(File.Exists(Folder.ModelPath(start)) ? Folder.ModelPath(start)
            : throw new InvalidDataException($"{Folder.ModelPath(start)}: {Id} at level {Level} has no saved state at its start step."));
}

/// <summary>
/// Which networks of a lottery replicate an analysis over the rounds covers (<c>--networks</c>):
/// <c>all</c> (IMP and every branch finished at the level, so a later run picks up branches run since),
/// or a list of <c>main</c>, branch names (every folder of that branch) and branch folder names. A branch
/// begins at level 1; its level 0 is IMP's dense network, where every branch starts from.
/// </summary>
public sealed class LotteryNetworks
{
    public const string Main = "main", All = "all";
    private static readonly Regex FolderName = new($"^(?<branch>[a-z0-9_]+)_[0-9a-f]{{{ExperimentName.HashLength}}}$", RegexOptions.CultureInvariant);
    private readonly LotteryLayout layout;
    private readonly string[] selection;

    public LotteryNetworks(LotteryLayout layout, string selection)
    {
        this.layout = layout;
        this.selection = Parse(selection);
    }

    /// <summary>Checks a <c>--networks</c> value: <c>all</c>, or names of main, branches or branch folders.</summary>
    public static string[] Parse(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new HparamException("--networks", "name at least one network: all, main, a branch (random_reinit) or a branch folder.");
        foreach (var name in names)
            if (name != All && name != Main && BranchOf(name) is null && BranchRegistry.All.All(b => b.Name != name))
                throw new HparamException("--networks", $"'{name}' is not all, main, a branch ({string.Join(", ", BranchRegistry.All.Select(b => b.Name))}) or a branch folder (random_reinit_<hash>).");
        return names;
    }

    /// <summary>The branch a folder name belongs to (random_reinit_0123456789abcdef: random_reinit), or null.</summary>
    public static string? BranchOf(string folderName) =>
        FolderName.Match(folderName) is { Success: true } m && BranchRegistry.All.Any(b => b.Name == m.Groups["branch"].Value) ? m.Groups["branch"].Value : null;

    /// <summary>A network's label in figures: its branch's name when no other folder of that branch is among <paramref name="ids"/>.</summary>
    public static string Label(string id, IEnumerable<string> ids) =>
        BranchOf(id) is { } branch && ids.Distinct().Count(i => BranchOf(i) == branch) == 1 ? branch : id;

    /// <summary>
    /// The networks covered at <paramref name="level"/>, IMP first, then branch folders in name order. With
    /// <c>all</c>, the branches finished there; a network named explicitly must have finished there.
    /// </summary>
    public IReadOnlyList<string> At(int level)
    {
        var finished = level == 0 ? [] : Directory.Exists(layout.LevelFolder(level))
            ? Directory.EnumerateDirectories(layout.LevelFolder(level)).Select(Path.GetFileName).OfType<string>()
                .Where(n => BranchOf(n) is not null && Find(n, level) is not null).Order(StringComparer.Ordinal).ToArray()
            : [];
        var ids = new List<string>();
        foreach (var name in selection)
        {
            var matching = name == All ? [Main, .. finished] : name == Main ? [Main] : finished.Where(f => f == name || BranchOf(f) == name).ToArray();
            if (matching.Length == 0 && name != All)
                throw new InvalidDataException($"--networks names {name}, which has not finished at level {level} of {layout.Path}"
                    + (level == 0 ? " (branches start at level 1)." : $"; run `ticketlab branch {BranchOf(name) ?? name} --levels {level}` first, or leave it out."));
            ids.AddRange(matching.Where(m => !ids.Contains(m)));
        }
        return ids;
    }

    /// <summary>A network at a level when it has finished there without diverging (level 0 of any network: IMP's dense one), else null.</summary>
    public LotteryNetwork? Find(string id, int level)
    {
        if (level == 0 || id == Main)
            return TrainingSummary.Read(layout.Main(level)) is { Diverged: false } ? new LotteryNetwork(id, level, layout.Main(level), layout.MaskPath(level)) : null;
        var folder = layout.Branch(level, id);
        if (TrainingSummary.Read(folder) is not { Diverged: false }) return null;
        string ownMask = Path.Combine(folder.Path, "mask.bin");
        return new LotteryNetwork(id, level, folder, File.Exists(ownMask) ? ownMask : layout.MaskPath(level));
    }

    /// <summary>The weights both masks keep.</summary>
    public static Mask Intersection(Mask a, Mask b) => new(a.Names.Select(n => KeyValuePair.Create(n, a[n] * b[n])).ToArray(), "the intersection of two masks");
}
