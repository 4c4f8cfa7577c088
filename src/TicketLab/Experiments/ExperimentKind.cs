using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Experiments;

/// <summary>Where a stored experiment (or one replicate of it) stands, as <c>list</c> and <c>study status</c> show it.</summary>
public enum ExperimentState { New, Partial, Running, Finished, Diverged, Unreadable }

/// <summary>One row of <c>ticketlab list</c>: a replicate of an experiment (or a whole experiment stored as one file).</summary>
public sealed record ListEntry(string Experiment, string Kind, int? Replicate, ExperimentState State, string Detail, string Path)
{
    public string Model { get; init; } = "?";
    public string Dataset { get; init; } = "?";
    public TrainingSummary? Summary { get; init; }
    /// <summary>Why the entry could not be read, when <see cref="State"/> is <see cref="ExperimentState.Unreadable"/>.</summary>
    public string? Problem { get; init; }
    /// <summary>The lottery level a row stands for (null: the whole replicate).</summary>
    public int? Level { get; init; }
    /// <summary>Whether the run was imported (from OpenLTH) rather than trained by TicketLab.</summary>
    public bool Imported { get; init; }
}

/// <summary>What a report may be asked for beyond the experiment itself.</summary>
public sealed record ReportOptions
{
    /// <summary>Lottery levels whose training curves are drawn (null: first, middle and last).</summary>
    public IReadOnlyList<int>? CurveLevels { get; init; }

    /// <summary>The rise above the chord under which <c>compare</c> counts two networks as one basin; changes only the verdicts shown.</summary>
    public double BasinThreshold { get; init; } = Analysis.InterpolationCurve.StabilityThreshold;
}

/// <summary>
/// One kind of experiment in the store (OpenLTH's description type and runner, in one place): the
/// prefix of its names (<see cref="ExperimentName"/>), how its stored results are found and read
/// for <c>list</c>, its report, its command (flags from <see cref="HparamsType"/>, run by
/// <see cref="Run"/>) and how a study expands it into units. Registered in
/// <see cref="ExperimentRegistry"/>; the CLI's experiment commands, study files, <c>list</c>,
/// <c>report</c> and name resolution go through the registry, so a new kind is one class and one
/// registry line (docs/experiments.md).
/// </summary>
public abstract class ExperimentKind
{
    /// <summary>The prefix of the kind's names in the store: <c>lottery</c> names <c>lottery_&lt;hash&gt;</c>.</summary>
    public abstract string Name { get; }

    /// <summary>A phrase for titles: "Lottery run".</summary>
    public abstract string Title { get; }

    /// <summary>Whether the experiment is stored as one JSON file (<c>rewind_sweep_&lt;hash&gt;.json</c>) instead of a folder of replicates.</summary>
    public virtual bool StoredAsFile => false;

    // ---- the command (OpenLTH's add_args / create_from_args / run) ----

    /// <summary>The command (<c>ticketlab rewind-sweep</c>) and the study files' <c>command = "rewind-sweep"</c>: the name, kebab-case.</summary>
    public string CommandName => Name.Replace('_', '-');

    /// <summary>The command's help line; null for a kind that has no command of its own (a sweep's parent run).</summary>
    public virtual string? CommandDescription => null;

    /// <summary>The flags that name the experiment's recipe: a training recipe, or a lottery run.</summary>
    public virtual CommandInputs Inputs => CommandInputs.TrainingRecipe;

    public virtual ReplicateFlags ReplicateFlags => ReplicateFlags.OneOrMany;

    /// <summary>The kind's own hyperparameter record: its fields are the command's further flags (help from their attributes).</summary>
    public virtual Type HparamsType => typeof(NoHparams);
    public virtual IHparams DefaultHparams => new NoHparams();

    /// <summary>The store entry the command writes (<c>lottery_&lt;hash&gt;</c>, <c>rewind_sweep_&lt;hash&gt;.json</c>), from its flags alone: studies find their results by it.</summary>
    public virtual string EntryName(ExperimentInputs inputs) => throw new NotSupportedException($"{Name} has no command.");

    /// <summary>Runs the experiment, in the library, writing its results to the store (work already stored is reused).</summary>
    public virtual ExperimentOutcome Run(ExperimentRequest request) => throw new NotSupportedException($"{Name} has no command.");

    // ---- in a study file ----

    /// <summary>Keys of a study's <c>[[experiment]]</c> this kind reads, beyond command, replicates and flags.</summary>
    public virtual IReadOnlyList<string> StudyKeys => [];

    /// <summary>
    /// The units of one <c>[[experiment]]</c> of this kind, each after the units it needs. By default one
    /// unit per replicate (<c>replicate_N</c>), or one for the whole experiment when the kind counts its
    /// replicates in its own record.
    /// </summary>
    public virtual IEnumerable<PlannedUnit> Expand(IStudyEntry entry)
    {
        if (ReplicateFlags == ReplicateFlags.InRecord)
        {
            yield return new PlannedUnit("", CommandName, [], [], 0);
            yield break;
        }
        for (int r = 1; r <= entry.Replicates; r++)
            yield return new PlannedUnit($"replicate_{r}", CommandName, ["--replicate", r.ToString(System.Globalization.CultureInfo.InvariantCulture)], [], r);
    }

    /// <summary>A phrase for the study report's list of experiments ("lottery, 3 levels, 2 replicate(s)").</summary>
    public virtual string DescribeStudyEntry(IStudyEntry entry) => $"{CommandName}, {entry.Replicates} replicate(s)";

    /// <summary>Whether a store entry's file name is an experiment of this kind.</summary>
    public bool Owns(string entryName, bool isFile) =>
        isFile == StoredAsFile && entryName.StartsWith(Name + "_", StringComparison.Ordinal)
        && entryName.EndsWith(".json", StringComparison.Ordinal) == StoredAsFile;

    /// <summary>The rows of <c>list</c> for one experiment; problems become an unreadable row, never an exception.</summary>
    public IEnumerable<ListEntry> List(string path)
    {
        string name = System.IO.Path.GetFileName(path).Replace(".json", "");
        if (StoredAsFile) return [Guarded(name, null, path, () => ListFile(name, path))];
        return Directory.EnumerateDirectories(path, "replicate_*").Order()
            .Select(folder => (Folder: folder, Number: ExperimentStore.ReplicateNumber(folder)))
            .SelectMany(r => Guarded(name, r.Number, r.Folder, () => ListReplicateRows(name, r.Number, new RunFolder(r.Folder))))
            .ToArray();
    }

    private IReadOnlyList<ListEntry> Guarded(string name, int? replicate, string path, Func<IEnumerable<ListEntry>> read)
    {
        try { return read().ToArray(); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException
                                       or RunIntegrityException)
        {
            return [new ListEntry(name, Name, replicate, ExperimentState.Unreadable, "unreadable", path) { Problem = e.Message }];
        }
    }

    private ListEntry Guarded(string name, int? replicate, string path, Func<ListEntry> read) => Guarded(name, replicate, path, () => [read()])[0];

    protected virtual ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder) => throw new NotSupportedException();

    /// <summary>The rows of one replicate: by default its one row; a lottery run adds a row per level.</summary>
    protected virtual IEnumerable<ListEntry> ListReplicateRows(string experiment, int? replicate, RunFolder folder) => [ListReplicate(experiment, replicate, folder)];
    protected virtual ListEntry ListFile(string experiment, string path) => throw new NotSupportedException();

    /// <summary>The report of a stored experiment: figures, tables and its hyperparameters.</summary>
    public abstract Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options);

    /// <summary>The recipe behind a stored experiment (groups dataset, model, training, ...), for legends and tables; null when it cannot be read.</summary>
    public abstract JsonObject? Hyperparameters(ExperimentRef experiment);

    /// <summary>
    /// Everything that sets the experiment apart, for telling experiments of a kind apart (<c>list</c>'s
    /// <c>differs</c>, <c>report --compare</c>): the recipe, and what else determines the experiment
    /// (an instability analysis' start, a sweep's steps). Null when it cannot be read.
    /// </summary>
    public virtual JsonObject? Settings(ExperimentRef experiment) => Hyperparameters(experiment);

    /// <summary>
    /// Every result stored for the experiment, one number a row (<see cref="ExperimentResults"/> writes
    /// them as results.csv). Unfinished parts are left out; nothing is computed anew.
    /// </summary>
    public abstract IEnumerable<ResultRow> Results(ExperimentRef experiment);

    // ---- helpers shared by the kinds ----

    /// <summary>A nested display field; "?" when a hand-edited file lacks it or gives it another type.</summary>
    protected static string Field(JsonNode? node, string group, string key) =>
        (node as JsonObject)?[group] is JsonObject o && o[key] is JsonValue v ? v.ToString() : "?";

    /// <summary>The state of a training-run folder, <see cref="RunState"/> mapped onto the store-wide states.</summary>
    protected static ExperimentState StateOf(RunFolder run) => run.State switch
    {
        RunState.New => ExperimentState.New,
        RunState.Partial => ExperimentState.Partial,
        RunState.Running => ExperimentState.Running,
        RunState.Finished => ExperimentState.Finished,
        RunState.Diverged => ExperimentState.Diverged,
        _ => ExperimentState.Unreadable,
    };

    /// <summary>
    /// The results of one training run: <c>diverged</c> (0 or 1), then for a run that trained to its end
    /// <c>final_test_accuracy</c>, <c>best_test_accuracy</c> (fractions), <c>final_test_loss</c>,
    /// <c>best_test_accuracy_step</c> and <c>iterations</c>; for a diverged one <c>diverged_at_step</c>.
    /// </summary>
    protected IEnumerable<ResultRow> TrainingResults(string experiment, int? replicate, string series, TrainingSummary summary)
    {
        ResultRow Row(string metric, double value) => new(experiment, Name, replicate, series, metric, value);
        yield return Row("diverged", summary.Diverged ? 1 : 0);
        if (summary.DivergedAtStep is { } step)
        {
            yield return Row("diverged_at_step", step);
            yield break;
        }
        yield return Row("final_test_accuracy", summary.FinalTestAccuracy);
        yield return Row("best_test_accuracy", summary.BestTestAccuracy);
        yield return Row("final_test_loss", summary.FinalTestLoss);
        yield return Row("best_test_accuracy_step", summary.BestTestAccuracyStep);
        yield return Row("iterations", summary.Iterations);
    }

    /// <summary>The replicate folders of an experiment with their numbers, in order.</summary>
    protected static IEnumerable<(int Replicate, string Folder)> ReplicateFolders(string experiment) => ExperimentStore.Replicates(experiment);

    protected static bool AnyRunning(string folder) =>
        Directory.Exists(folder) && Directory.EnumerateDirectories(folder).Any(f => RunLock.IsHeld(f));

    protected static string FirstReplicateFile(string experiment, string file) =>
        Directory.EnumerateDirectories(experiment, "replicate_*").Order().Select(d => System.IO.Path.Combine(d, file)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"{experiment}: no replicate holds {file}.");

    protected static JsonObject? ReadObject(string path) => JsonRead.ObjectFile(path);
}

/// <summary>
/// A kind with a typed hyperparameter record: the usual base of a kind that has a command. Its
/// record's fields are the command's flags, and <see cref="Run(ExperimentRequest, THparams)"/> gets it typed.
/// </summary>
public abstract class ExperimentKind<THparams> : ExperimentKind where THparams : class, IHparams, new()
{
    public sealed override Type HparamsType => typeof(THparams);
    public override IHparams DefaultHparams => new THparams();
    public sealed override string EntryName(ExperimentInputs inputs) => EntryName(inputs, (THparams)inputs.Hparams);
    public sealed override ExperimentOutcome Run(ExperimentRequest request) => Run(request, (THparams)request.Inputs.Hparams);

    protected virtual string EntryName(ExperimentInputs inputs, THparams hparams) => throw new NotSupportedException($"{Name} has no command.");
    protected virtual ExperimentOutcome Run(ExperimentRequest request, THparams hparams) => throw new NotSupportedException($"{Name} has no command.");
}

/// <summary>An experiment found in the store: its kind, where it lives and its name.</summary>
public sealed record ExperimentRef(ExperimentKind Kind, string Path, string Name)
{
    /// <summary>
    /// Resolves a folder or file path, or a run name or hash (or a unique prefix of one) in the
    /// store: <c>lottery_1a2b...</c>, <c>1a2b</c>, <c>rewind_sweep_...json</c>.
    /// </summary>
    public static ExperimentRef Resolve(ExperimentStore store, string target)
    {
        string? path = File.Exists(target) || Directory.Exists(target) ? System.IO.Path.GetFullPath(target) : null;
        if (path is null && Directory.Exists(store.Root))
        {
            var matches = Directory.EnumerateFileSystemEntries(store.Root)
                .Where(p => ExperimentRegistry.KindOf(p) is not null)
                .Where(p => System.IO.Path.GetFileName(p) is var name && (name.StartsWith(target, StringComparison.Ordinal)
                    || name.Split('_').Last().Replace(".json", "").StartsWith(target, StringComparison.Ordinal)))
                .ToArray();
            if (matches.Length > 1)
                throw new ArgumentException($"'{target}' matches several experiments in {store.Root}: {string.Join(", ", matches.Select(System.IO.Path.GetFileName))}. Give more of the hash.");
            path = matches.SingleOrDefault();
        }
        if (path is null) throw new ArgumentException($"'{target}' is neither a path nor an experiment in the store {store.Root} (see `ticketlab list`).");
        // A replicate folder stands for its experiment.
        if (System.IO.Path.GetFileName(path).StartsWith("replicate_", StringComparison.Ordinal)) path = System.IO.Path.GetDirectoryName(path)!;
        var kind = ExperimentRegistry.KindOf(path)
            ?? throw new ArgumentException($"{path}: not a TicketLab experiment (expected {string.Join(", ", ExperimentRegistry.All.Select(k => k.Name + (k.StoredAsFile ? "_*.json" : "_*")))}).");
        return new ExperimentRef(kind, path, System.IO.Path.GetFileName(path).Replace(".json", ""));
    }
}
