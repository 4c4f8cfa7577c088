using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>
/// Which units of a study train together, as one stacked model in one process: the same lottery
/// level (or the same branch on a level) of several replicates of one recipe, whose command lines
/// differ only in <c>--replicate</c>, for an architecture that stacks. Replicates are taken in order,
/// <see cref="Study.NetworksPerProcess"/> at a time (1..8, 9..16, ...): the grouping is fixed by the
/// study file, never by the workers or by timing, so a study gives the same weights with any
/// <c>--workers</c>. The group runs as one command line with <c>--replicates 1,2,...</c>; each
/// replicate is written, and each unit recorded, as if it had run alone.
/// </summary>
public sealed class UnitGroups
{
    private const string ReplicateFlag = "--replicate";
    private readonly Dictionary<string, StudyUnit[]> groupOf = [];

    public UnitGroups(StudyPlan plan)
    {
        int size = plan.Study.NetworksPerProcess;
        if (size < 2) return;
        foreach (var similar in plan.Units.Where(Stackable).GroupBy(SameExceptReplicate))
            foreach (var group in similar.OrderBy(u => u.Replicate).Chunk(size))
                if (group.Length > 1)
                    foreach (var unit in group) groupOf[unit.Id] = group;
    }

    /// <summary>The units that train with <paramref name="unit"/> (itself included, in replicate order); just itself when it trains alone.</summary>
    public IReadOnlyList<StudyUnit> Of(StudyUnit unit) => groupOf.TryGetValue(unit.Id, out var group) ? group : [unit];

    /// <summary>The command line of units of one group: the first unit's, with <c>--replicates</c> listing theirs.</summary>
    public static IReadOnlyList<string> CommandArgs(IReadOnlyList<StudyUnit> units)
    {
        if (units.Count == 1) return units[0].Args;
        var args = units[0].Args.ToArray();
        int at = Array.LastIndexOf(args, ReplicateFlag);
        args[at] = "--replicates";
        args[at + 1] = string.Join(",", units.Select(u => u.Replicate.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return args;
    }

    private static bool Stackable(StudyUnit unit)
    {
        if (unit.Command != "lottery" && !unit.Command.StartsWith("branch ", StringComparison.Ordinal)) return false;
        int at = unit.Args.ToList().LastIndexOf(ReplicateFlag);
        if (at < 0 || at + 1 >= unit.Args.Count || unit.Args[at + 1] != unit.Replicate.ToString(System.Globalization.CultureInfo.InvariantCulture)) return false;
        // Training that does not stack (a repellent loss, bf16) would run the group one network after
        // another in one worker, taking the other workers' share: such units stay alone.
        if (Value(unit.Args, "--repel-lambda") is { } lambda && lambda != "0") return false;
        if (Value(unit.Args, "--autocast") is { } autocast && autocast != "none") return false;
        return ModelName(unit.Args) is { } model && StackedModel.Supports(model);
    }

    private static string SameExceptReplicate(StudyUnit unit)
    {
        var args = unit.Args.ToList();
        int at = args.LastIndexOf(ReplicateFlag);
        args.RemoveRange(at, 2);
        return $"{unit.Recipe}\n{unit.ExperimentIndex}\n{string.Join("\n", args)}";
    }

    /// <summary>The model a unit trains: its <c>--model-name</c>, else its preset's, else the default; null when its preset is unknown (its command will say so).</summary>
    private static string? ModelName(IReadOnlyList<string> args)
    {
        if (Value(args, "--model-name") is { } model) return model;
        if (Value(args, "--preset") is not { } preset) return new ModelHparams().ModelName;
        try { return Presets.Get(preset).Model.ModelName; }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or HparamException) { return null; }
    }

    private static string? Value(IReadOnlyList<string> args, string flag)
    {
        var list = args.ToList();
        int at = list.LastIndexOf(flag);
        return at >= 0 && at + 1 < list.Count ? list[at + 1] : null;
    }
}
