using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;
using TicketLab.Training;

namespace TicketLab.Experiments;

/// <summary>Everything an analysis of one level of a lottery run gets.</summary>
public sealed record LevelAnalysisJob(LotteryDesc Lottery, int Replicate, int Level, LotteryLayout Layout, RunOptions Options, RunContext Context);

/// <summary>One stored result of a level analysis.</summary>
public sealed record LevelResult<TResult>(int Replicate, int Level, TResult Result);

/// <summary>
/// An analysis run on levels of a finished lottery run (untyped face, for the registry, the CLI and
/// studies). Its hyperparameter record becomes the flags of <c>ticketlab analyze NAME</c> and names
/// its folder, <c>lottery_&lt;hash&gt;/replicate_N/&lt;name&gt;_&lt;hash&gt;/level_L.json</c>.
/// </summary>
public interface ILevelAnalysis
{
    string Name { get; }
    string Description { get; }
    /// <summary>The lowest level the analysis applies to (1 when it needs a pruned level).</summary>
    int FirstLevel { get; }
    Type HparamsType { get; }
    IHparams DefaultHparams { get; }
    string FolderName(IHparams hparams);
    /// <summary>Whether the lottery report shows the analysis's tables as a section of their own (false: the report draws it otherwise).</summary>
    bool HasOwnReportSection { get; }
    /// <summary>Runs the analysis on a level, or reads its stored result; returns it as JSON.</summary>
    JsonObject Run(LevelAnalysisJob job, IHparams hparams);
    /// <summary>
    /// The tables of stored results in replicate folders (all settings found), for reports and the
    /// command's output; <paramref name="given"/>, when it names one of them, supplies the settings
    /// that change only the verdicts (a threshold), which are not stored. <paramref name="levels"/>: only these levels.
    /// </summary>
    IReadOnlyList<ReportTable> Tables(IEnumerable<string> replicateFolders, IHparams? given = null, IReadOnlyCollection<int>? levels = null);
    /// <summary>The figures of stored results in replicate folders (all settings found; none for most analyses), for the report.</summary>
    IReadOnlyList<Figure> Figures(IEnumerable<string> replicateFolders, IReadOnlyCollection<int>? levels = null);
    /// <summary>
    /// Whether a level's result reads earlier levels' networks, branches' included (a matrix over the rounds):
    /// in a study its unit then waits for the same analysis at the level before, and so for every earlier branch.
    /// </summary>
    bool ReadsEarlierLevels { get; }

    /// <summary>
    /// Judgements over the replicates of each level, for the command's <c>--json</c>: from the results
    /// stored under <paramref name="hparams"/>'s settings; null when the analysis judges nothing.
    /// </summary>
    JsonNode? Verdicts(IEnumerable<string> replicateFolders, IHparams hparams, IReadOnlyCollection<int>? levels = null);
}

/// <summary>
/// A level analysis with typed hyperparameters and result. A new one is one class deriving from
/// this, plus one line in <see cref="LevelAnalysisRegistry"/>: its command, its place in
/// <c>list</c> and in the lottery report, and its unit type in study files
/// (<c>analyses = ["name"]</c>) follow from the registry.
/// </summary>
public abstract class LevelAnalysis<THparams, TResult> : ILevelAnalysis
    where THparams : class, IHparams, new()
    where TResult : IStoredResult<TResult>
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public virtual int FirstLevel => 0;
    public virtual bool HasOwnReportSection => true;
    public virtual bool ReadsEarlierLevels => false;
    public Type HparamsType => typeof(THparams);
    public IHparams DefaultHparams => new THparams();

    public string FolderName(IHparams hparams) => ExperimentName.Of(Name, HparamJson.NonDefault(hparams));

    protected abstract TResult Analyze(LevelAnalysisJob job, THparams hparams);

    /// <summary>The results as tables: one row per replicate and level, the columns the analysis chooses.</summary>
    protected abstract IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<TResult>> results, THparams hparams);

    /// <summary>
    /// The results as figures (none by default), all levels and replicates of one setting together. Names
    /// need only be unique within the analysis: <see cref="Figures"/> prefixes them with the setting's folder name.
    /// </summary>
    protected virtual IReadOnlyList<Figure> Draw(IReadOnlyList<LevelResult<TResult>> results, THparams hparams) => [];

    /// <summary>
    /// Whether a stored result still answers the question (true by default). An analysis whose result
    /// covers the networks present in the store (branches run later) says no when that set has changed,
    /// and the level is analysed again.
    /// </summary>
    protected virtual bool IsCurrent(TResult stored, LevelAnalysisJob job, THparams hparams) => true;

    public JsonObject Run(LevelAnalysisJob job, IHparams hparams) => RunTyped(job, (THparams)hparams).ToJson();

    public TResult RunTyped(LevelAnalysisJob job, THparams hparams)
    {
        hparams.Validate();
        if (job.Level < FirstLevel)
            throw new HparamException("--levels", $"{Name} applies to levels {FirstLevel} and above, not {job.Level}.");
        string folder = Path.Combine(job.Layout.Path, FolderName(hparams));
        string file = Path.Combine(folder, $"level_{job.Level}.json");
        if (JsonRead.ObjectFile(file) is { } stored && TResult.FromJson(stored["result"]!) is var storedResult && IsCurrent(storedResult, job, hparams))
            return storedResult;
        if (TrainingSummary.Read(job.Layout.Main(job.Level)) is not { } summary)
            throw new InvalidDataException($"{job.Layout.Main(job.Level).Path}: level {job.Level} has not finished; run `ticketlab lottery` with --levels {job.Level} first.");
        summary.RequireConverged($"Level {job.Level} of {job.Lottery.RunName}, which {Name} analyses,");
        var result = Analyze(job, hparams);
        Directory.CreateDirectory(folder);
        var json = new JsonObject
        {
            ["analysis"] = Name, ["hparams"] = HparamJson.ToJson(hparams), ["lottery_run"] = job.Lottery.RunName,
            ["replicate"] = job.Replicate, ["level"] = job.Level, ["result"] = result.ToJson(),
        };
        AtomicFile.WriteJson(file, json);
        return result;
    }

    /// <summary>Judgements pooled over replicates (<see cref="ILevelAnalysis.Verdicts"/>); none by default.</summary>
    protected virtual JsonNode? Judge(IReadOnlyList<LevelResult<TResult>> results, THparams hparams) => null;

    public JsonNode? Verdicts(IEnumerable<string> replicateFolders, IHparams hparams, IReadOnlyCollection<int>? levels = null)
    {
        var files = replicateFolders.Select(r => Path.Combine(r, FolderName(hparams))).Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "level_*.json")).Select(f => JsonRead.ObjectFile(f)!);
        var results = Read(files, levels);
        return results.Length == 0 ? null : Judge(results, (THparams)hparams);
    }

    /// <summary>Stored results in the current format (with "result"), of the given levels, by level then replicate.</summary>
    private static LevelResult<TResult>[] Read(IEnumerable<JsonObject> files, IReadOnlyCollection<int>? levels) => files
        .Where(j => j["result"] is not null && j["hparams"] is not null)
        .Select(j => new LevelResult<TResult>((int)j["replicate"]!, (int)j["level"]!, TResult.FromJson(j["result"]!)))
        .Where(r => levels is null || levels.Contains(r.Level))
        .OrderBy(r => r.Level).ThenBy(r => r.Replicate).ToArray();

    public IReadOnlyList<ReportTable> Tables(IEnumerable<string> replicateFolders, IHparams? given = null, IReadOnlyCollection<int>? levels = null) =>
        Stored(replicateFolders, given, levels).SelectMany(s => Tabulate(s.Results, s.Hparams)).ToArray();

    public IReadOnlyList<Figure> Figures(IEnumerable<string> replicateFolders, IReadOnlyCollection<int>? levels = null) =>
        Stored(replicateFolders, null, levels).SelectMany(s => Draw(s.Results, s.Hparams).Select(f => f with { Name = $"{s.Folder}_{f.Name}" })).ToArray();

    /// <summary>The stored results, grouped by setting (folder name), levels and replicates in order.</summary>
    private IEnumerable<(string Folder, THparams Hparams, IReadOnlyList<LevelResult<TResult>> Results)> Stored(IEnumerable<string> replicateFolders, IHparams? given, IReadOnlyCollection<int>? levels)
    {
        var byFolder = replicateFolders
            .SelectMany(r => Directory.Exists(r) ? Directory.EnumerateDirectories(r, Name + "_*") : [])
            .GroupBy(Path.GetFileName);
        foreach (var settings in byFolder.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Files of an earlier format (no "result") belong to no current setting: left out.
            var files = settings.SelectMany(f => Directory.EnumerateFiles(f, "level_*.json")).Select(f => JsonRead.ObjectFile(f)!)
                .Where(j => j["result"] is not null && j["hparams"] is not null).ToArray();
            if (files.Length == 0) continue;
            var hparams = given is THparams typed && FolderName(typed) == settings.Key ? typed : HparamJson.FromJson<THparams>(files[0]["hparams"]!);
            var results = Read(files, levels);
            if (results.Length > 0) yield return (settings.Key!, hparams, results);
        }
    }
}
