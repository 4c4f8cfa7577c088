using System.Text.Json.Nodes;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Lottery;

/// <summary>Mean, min and max of one accuracy over the replicates that have it.</summary>
public sealed record Aggregate(double Mean, double Min, double Max, int Count)
{
    public static Aggregate? Of(IReadOnlyCollection<double> values) =>
        values.Count == 0 ? null : new Aggregate(values.Average(), values.Min(), values.Max(), values.Count);

    public JsonObject ToJson() => new() { ["mean"] = Mean, ["min"] = Min, ["max"] = Max, ["replicates"] = Count };
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

    public JsonObject ToJson() => new()
    {
        ["final_test_accuracy"] = Final?.ToJson(),
        ["best_test_accuracy"] = Best?.ToJson(),
        ["diverged_replicates"] = Diverged,
    };
}

public sealed record LevelRow(int Level, double PercentRemaining, IReadOnlyDictionary<string, SeriesResult> Series);

/// <summary>
/// The summary of a lottery run as stored: per level, the % of prunable weights remaining and
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
        var replicates = Directory.EnumerateDirectories(experiment, "replicate_*")
            .Select(d => int.TryParse(Path.GetFileName(d)["replicate_".Length..], out int r) ? r : -1).Where(r => r > 0).Order().ToArray();
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
                    if (series == Ticket && File.Exists(layout.MaskSummaryPath(level)))
                        density[level] = 1 - (double)JsonNode.Parse(File.ReadAllText(layout.MaskSummaryPath(level)))!["sparsity"]!;
                    if (!finals.TryGetValue(level, out var bySeries)) finals[level] = bySeries = [];
                    if (!bySeries.TryGetValue(series, out var values)) bySeries[series] = values = ([], [], []);
                    values.Diverged.Add(summary.Diverged);
                    if (summary.Diverged) continue;
                    values.Final.Add(summary.FinalTestAccuracy);
                    values.Best.Add(summary.BestTestAccuracy);
                }
            }
        }
        var rows = finals.Select(p => new LevelRow(p.Key, 100 * density.GetValueOrDefault(p.Key, double.NaN),
            p.Value.ToDictionary(s => s.Key, s => new SeriesResult(Aggregate.Of(s.Value.Final), Aggregate.Of(s.Value.Best), s.Value.Diverged.Count(d => d))))).ToArray();
        return new LotteryTable(runName, replicates, rows);
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
                changed.AddRange(group.Where(p => !JsonNode.DeepEquals(reference[p.Key], p.Value)).Select(p => $"{p.Key}={Text(p.Value)}"));
            else changed.Add($"{key}={Text(value)}");
        }
        return changed.Count == 0 ? name : $"{name} ({string.Join(", ", changed)})";
    }

    private static string Text(JsonNode? value) => value?.ToJsonString().Trim('"') ?? "none";

    public JsonObject ToJson()
    {
        var rows = new JsonArray();
        foreach (var row in Rows)
        {
            var series = new JsonObject();
            foreach (var (name, result) in row.Series)
                series[name] = result.ToJson();
            rows.Add(new JsonObject { ["level"] = row.Level, ["percent_remaining"] = row.PercentRemaining, ["series"] = series });
        }
        return new JsonObject
        {
            ["lottery_run"] = RunName,
            ["replicates"] = new JsonArray(Replicates.Select(r => (JsonNode)r).ToArray()),
            ["dense_final_test_accuracy"] = Dense?.Final?.ToJson(),
            ["matches_dense_up_to_level"] = MatchesDenseUpTo(),
            ["levels"] = rows,
        };
    }
}
