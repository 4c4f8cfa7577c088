using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery;

/// <summary>Mean, min and max of one accuracy over the replicates that have it (the mean is derived: see <see cref="DataNumbers"/>).</summary>
public sealed record Aggregate(double Mean, double Min, double Max, int Count)
{
    public static Aggregate? Of(IReadOnlyCollection<double> values) =>
        values.Count == 0 ? null : new Aggregate(DataNumbers.Derived(values.Average()), values.Min(), values.Max(), values.Count);
}

/// <summary>
/// One series at one level over replicates. Diverged replicates have no accuracy: they are
/// counted apart (<see cref="Diverged"/>) and left out of the aggregates, which are null when none
/// trained to the end.
/// </summary>
public sealed record SeriesResult(Aggregate? Final, Aggregate? Best, int Diverged)
{
    /// <summary>"diverged: 1 of 3" when some replicates diverged, else empty: shown beside the accuracies.</summary>
    public string DivergedNote => Diverged == 0 ? "" : $"diverged: {Diverged} of {Diverged + (Final?.Count ?? 0)}";

    /// <summary>Replicates that trained to the end (those in the aggregates).</summary>
    public int Replicates => Final?.Count ?? 0;
}

/// <param name="FractionRemaining">The fraction of prunable weights the level's mask keeps (remaining / total; 1 at level 0, NaN when its mask.json is missing).</param>
public sealed record LevelRow(int Level, double FractionRemaining, IReadOnlyDictionary<string, SeriesResult> Series);

/// <summary>
/// The summary of a lottery run as stored: per level, the fraction of prunable weights remaining and
/// the final and best test accuracy of the ticket ("ticket") and of each branch present, averaged
/// over replicates; plus the dense (level 0) accuracy for reference.
/// </summary>
public sealed record LotteryTable(string RunName, IReadOnlyList<int> Replicates, IReadOnlyList<LevelRow> Rows)
{
    public const string Ticket = "ticket";

    public IReadOnlyList<string> SeriesNames =>
        Rows.SelectMany(r => r.Series.Keys).Distinct().OrderBy(n => n == Ticket ? "" : n, StringComparer.Ordinal).ToArray();

    public SeriesResult? Dense => Rows.FirstOrDefault(r => r.Level == 0)?.Series.GetValueOrDefault(Ticket);

    /// <summary>Highest level up to which every ticket level's mean final accuracy is within <paramref name="tolerance"/> of the dense one.</summary>
    public int? MatchesDenseUpTo(double tolerance = 0.005)
    {
        if (Dense is not { Final: { } denseFinal }) return null;
        int? last = null;
        foreach (var row in Rows.OrderBy(r => r.Level))
        {
            if (row.Series.GetValueOrDefault(Ticket) is not { Final: { } ticket, Diverged: 0 } || ticket.Mean < denseFinal.Mean - tolerance) break;
            last = row.Level;
        }
        return last;
    }

    public static LotteryTable Read(ExperimentStore store, string runName)
    {
        string experiment = store.ExperimentFolder(runName);
        if (!Directory.Exists(experiment)) throw new DirectoryNotFoundException($"{experiment}: no such lottery run in the store.");
        var replicates = ExperimentStore.Replicates(experiment).Select(r => r.Number).ToArray();
        var finals = new SortedDictionary<int, Dictionary<string, (List<double> Final, List<double> Best, List<bool> Diverged)>>();
        var density = new Dictionary<int, double>();
        foreach (int replicate in replicates)
        {
            var layout = new LotteryLayout(store.ReplicateFolder(runName, replicate));
            foreach (int level in layout.Levels())
            {
                foreach (var runPath in Directory.EnumerateDirectories(layout.LevelFolder(level)))
                {
                    var run = new RunFolder(runPath);
                    if (TrainingSummary.Read(run) is not { } summary) continue;
                    string series = Path.GetFileName(runPath) == "main" ? Ticket : BranchLabel(run);
                    if (series == Ticket && FractionRemaining(layout.MaskSummaryPath(level)) is { } fraction) density[level] = fraction;
                    if (!finals.TryGetValue(level, out var bySeries)) finals[level] = bySeries = [];
                    if (!bySeries.TryGetValue(series, out var values)) bySeries[series] = values = ([], [], []);
                    values.Diverged.Add(summary.Diverged);
                    if (summary.Diverged) continue;
                    values.Final.Add(summary.FinalTestAccuracy);
                    values.Best.Add(summary.BestTestAccuracy);
                }
            }
        }
        var rows = finals.Select(p => new LevelRow(p.Key, density.GetValueOrDefault(p.Key, double.NaN),
            p.Value.ToDictionary(s => s.Key, s => new SeriesResult(Aggregate.Of(s.Value.Final), Aggregate.Of(s.Value.Best), s.Value.Diverged.Count(d => d))))).ToArray();
        return new LotteryTable(runName, replicates, rows);
    }

    /// <summary>
    /// The fraction of prunable weights a mask keeps, from its mask.json: remaining / total in one
    /// division (exact), or 1 - sparsity for a summary without the counts. Null when there is no file.
    /// </summary>
    public static double? FractionRemaining(string maskSummaryPath)
    {
        if (JsonRead.ObjectFile(maskSummaryPath) is not { } mask) return null;
        if (mask["remaining"] is JsonValue && mask["total"] is JsonValue)
            return DataNumbers.Fraction(JsonRead.Integer(mask, "remaining", maskSummaryPath), JsonRead.Integer(mask, "total", maskSummaryPath));
        return DataNumbers.Derived(1 - JsonRead.Number(mask, "sparsity", maskSummaryPath));
    }

    /// <summary>
    /// The branch a series label belongs to: <c>ticket</c>, <c>retrain</c> for <c>retrain (retrain_lr=0.05)</c>,
    /// <c>random_prune</c> for a folder name that had to stand for its unreadable settings (<c>random_prune_44136fa3</c>).
    /// </summary>
    public static string BranchOf(string series)
    {
        int settings = series.IndexOf(" (", StringComparison.Ordinal);
        if (settings >= 0) return series[..settings];
        int cut = series.LastIndexOf('_');
        return cut > 0 && series.Length - cut - 1 is 8 or 16 && series[(cut + 1)..].All(char.IsAsciiHexDigitLower) ? series[..cut] : series;
    }

    /// <summary>
    /// A branch's series by what it is, never by its hash: its name, with the hyperparameters it
    /// sets away from their defaults (<c>retrain (retrain_lr=0.05)</c>).
    /// </summary>
    public static string BranchLabel(RunFolder run)
    {
        string folder = Path.GetFileName(run.Path);
        string name = folder.Contains('_') ? folder[..folder.LastIndexOf('_')] : folder;
        if (run.ReadHparams()?["branch"]?["hparams"] is not JsonObject stored) return folder;
        var branch = Branches.BranchRegistry.All.FirstOrDefault(b => b.Name == name);
        if (branch is null) return folder;
        var defaults = Hyperparameters.HparamJson.ToJson(branch.DefaultHparams);
        // A nested group (the retrain recipe) is told by how it differs from the ticket's own run beside it.
        var ticket = new RunFolder(Path.Combine(Path.GetDirectoryName(run.Path)!, "main")).ReadHparams();
        var changed = new List<string>();
        foreach (var (key, value) in stored)
        {
            if (defaults.TryGetPropertyValue(key, out var d) && JsonNode.DeepEquals(d, value)) continue;
            if (value is JsonObject group && ticket?[key] is JsonObject reference)
                changed.AddRange(group.Where(p => !JsonNode.DeepEquals(reference[p.Key], p.Value)).Select(p => $"{p.Key}={GroupText(run, name, p.Key, p.Value)}"));
            else changed.Add($"{key}={Text(value)}");
        }
        return changed.Count == 0 ? name : $"{name} ({string.Join(", ", changed)})";
    }

    private static string Text(JsonNode? value) => value?.ToJsonString().Trim('"') ?? "none";

    /// <summary>A retrain's noise-floor seed reads as its rule (<c>2000003+replicate</c>), the same in every replicate; other values as stored.</summary>
    private static string GroupText(RunFolder run, string branch, string key, JsonNode? value)
    {
        int? replicate = Store.ExperimentStore.ReplicateNumber(Path.GetDirectoryName(Path.GetDirectoryName(run.Path)!)!);
        return branch == "retrain" && key == "data_order_seed" && replicate is { } r && value is JsonValue v && v.TryGetValue(out int seed)
            && seed == Branches.RetrainHparams.NoiseFloorSeed(r)
            ? $"{Branches.RetrainHparams.NoiseFloorSeedBase}+replicate"
            : Text(value);
    }

    /// <summary>
    /// The table as flat rows for pandas and jq: one row per level and series, with the replicate
    /// statistics as columns (<c>pd.DataFrame(json["rows"])</c>). Fractions, never percent; the
    /// means rounded as <see cref="DataNumbers"/> says. <c>replicates</c> counts the replicates that
    /// trained to the end (those in the statistics), <c>diverged</c> those whose loss stopped being finite.
    /// </summary>
    public JsonObject ToJson()
    {
        var rows = new JsonArray();
        foreach (var row in Rows.OrderBy(r => r.Level))
            foreach (var name in SeriesNames)
                if (row.Series.GetValueOrDefault(name) is { } result)
                    rows.Add(new JsonObject
                    {
                        ["level"] = row.Level,
                        ["fraction_remaining"] = double.IsFinite(row.FractionRemaining) ? row.FractionRemaining : null,
                        ["series"] = name,
                        ["branch"] = BranchOf(name),
                        ["final_test_accuracy_mean"] = result.Final?.Mean,
                        ["final_test_accuracy_min"] = result.Final?.Min,
                        ["final_test_accuracy_max"] = result.Final?.Max,
                        ["best_test_accuracy_mean"] = result.Best?.Mean,
                        ["best_test_accuracy_min"] = result.Best?.Min,
                        ["best_test_accuracy_max"] = result.Best?.Max,
                        ["replicates"] = result.Replicates,
                        ["diverged"] = result.Diverged,
                    });
        return new JsonObject
        {
            ["lottery_run"] = RunName,
            ["replicates"] = new JsonArray(Replicates.Select(r => (JsonNode)r).ToArray()),
            ["dense_final_test_accuracy_mean"] = Dense?.Final?.Mean,
            ["matches_dense_up_to_level"] = MatchesDenseUpTo(),
            ["rows"] = rows,
        };
    }
}
