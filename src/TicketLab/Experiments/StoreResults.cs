using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Hyperparameters;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Experiments;

/// <summary>Which experiments <see cref="StoreResults"/> keeps: by kind, by nearest preset, by hyperparameter values (all must hold).</summary>
public sealed record StoreResultsFilter
{
    /// <summary>Kinds by name (<c>lottery</c>); empty: every kind.</summary>
    public IReadOnlyList<string> Kinds { get; init; } = [];
    /// <summary>Only experiments whose recipe is nearest to this preset (see <see cref="StoreResults.NearestPreset"/>).</summary>
    public string? Preset { get; init; }
    /// <summary>Dotted recipe paths and values, <c>training.lr=0.1</c>; numbers compare as numbers.</summary>
    public IReadOnlyList<(string Path, string Value)> Where { get; init; } = [];
}

/// <summary>The store-wide table: its columns and one row per result.</summary>
public sealed record StoreTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows)
{
    public string ToCsv()
    {
        var text = new System.Text.StringBuilder();
        text.Append(string.Join(',', Columns.Select(CsvTable.FormatCell))).Append('\n');
        foreach (var row in Rows) text.Append(string.Join(',', row.Select(CsvTable.FormatCell))).Append('\n');
        return text.ToString();
    }

    /// <summary>One JSON object a line, keys in column order, empty cells left out.</summary>
    public IEnumerable<string> ToJsonLines() => Rows.Select(row =>
    {
        var line = new JsonObject();
        for (int i = 0; i < Columns.Count; i++)
            if (row[i] is { } value) line[Columns[i]] = value switch
            {
                JsonNode node => node.DeepClone(),
                string text => JsonValue.Create(text),
                int number => JsonValue.Create(number),
                long number => JsonValue.Create(number),
                double number => JsonValue.Create(number),
                _ => throw new InvalidOperationException($"a results cell of type {value.GetType().Name}"),
            };
        return line.ToJsonString();
    });
}

/// <summary>
/// Every result of every experiment in a store (<c>ticketlab results</c>): the rows each kind's
/// results.csv holds, computed afresh from the stored results, with the recipe beside each row: the
/// nearest preset, the hyperparameters in which the recipe departs from it, and every recipe
/// hyperparameter that differs among the experiments kept or that the filter names (dotted columns, <c>training.lr</c>).
/// </summary>
public static class StoreResults
{
    public static StoreTable Collect(ExperimentStore store, StoreResultsFilter filter)
    {
        foreach (var kind in filter.Kinds.Where(k => ExperimentRegistry.All.All(r => r.Name != k)))
            throw new HparamException("--kind", $"unknown kind '{kind}'. Known: {string.Join(", ", ExperimentRegistry.All.Select(k => k.Name))}.");
        if (filter.Preset is { } preset) Presets.Get(preset); // a clear error for an unknown name
        var experiments = ExperimentRegistry.Experiments(store)
            .Where(e => filter.Kinds.Count == 0 || filter.Kinds.Contains(e.Kind.Name))
            .Select(e => (Experiment: e, Recipe: ExperimentReports.HparamsOf(e)))
            .Select(e => (e.Experiment, e.Recipe, Flat: HparamDifferences.Flatten(e.Recipe), Nearest: NearestPreset(e.Recipe)))
            .ToArray();
        var known = experiments.SelectMany(e => e.Flat.Keys).ToHashSet();
        foreach (var (path, _) in filter.Where.Where(w => !known.Contains(w.Path)))
            throw new HparamException("--where", $"no experiment{(filter.Kinds.Count > 0 ? " of the kinds asked for" : "")} in {store.Root} has the hyperparameter '{path}'; "
                + $"paths look like {string.Join(", ", known.Order(StringComparer.Ordinal).Take(4))}.");
        var kept = experiments
            .Where(e => filter.Preset is null || e.Nearest?.Name == filter.Preset)
            .Where(e => filter.Where.All(w => e.Flat.TryGetValue(w.Path, out var value) && Matches(value, w.Value)))
            .ToArray();
        var differing = HparamDifferences.Of(kept.Select(e => e.Recipe).ToArray());
        // The hyperparameters that tell the kept experiments apart, and those the filter names (one experiment left still shows them).
        var paths = differing.SelectMany(d => d.Select(s => s.Path)).Concat(filter.Where.Select(w => w.Path)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var rows = new List<IReadOnlyList<object?>>();
        foreach (var (experiment, _, flat, nearest) in kept)
            foreach (var row in experiment.Kind.Results(experiment))
                rows.Add([row.Experiment, row.Kind, row.Replicate, row.Level, row.FractionRemaining, row.Series, row.StartStep, row.Metric, row.Value,
                    nearest?.Name, nearest is null ? null : nearest.Value.Overrides, .. paths.Select(p => flat.TryGetValue(p, out var v) ? v?.DeepClone() : null)]);
        return new StoreTable([.. ExperimentResults.Header, "preset", "overrides", .. paths], rows);
    }

    /// <summary>
    /// The preset whose training recipe (dataset, model, training) the experiment's recipe departs from in
    /// the fewest hyperparameters, with those departures (<c>lr=0.05</c>); the first such preset on a tie;
    /// null for an unreadable recipe. Presets are not recorded in the store, so this is how a result finds its preset.
    /// </summary>
    public static (string Name, string Overrides)? NearestPreset(JsonObject? recipe)
    {
        if (recipe is null) return null;
        var flat = HparamDifferences.Flatten(recipe);
        (string Name, IReadOnlyList<HparamSetting> Overrides)? best = null;
        foreach (var (name, _, _) in Presets.All)
        {
            var preset = HparamDifferences.Flatten(Presets.Get(name).ToJson());
            var overrides = preset.Where(p => !flat.TryGetValue(p.Key, out var value) || !JsonNode.DeepEquals(value, p.Value))
                .Select(p => new HparamSetting(p.Key, flat.GetValueOrDefault(p.Key)) { Absent = !flat.ContainsKey(p.Key) }).ToArray();
            if (best is null || overrides.Length < best.Value.Overrides.Count) best = (name, overrides);
        }
        return best is { } b ? (b.Name, HparamDifferences.Label(b.Overrides)) : null;
    }

    private static bool Matches(JsonNode? value, string wanted)
    {
        string text = new HparamSetting("", value).Text;
        return text == wanted || (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            && double.TryParse(wanted, NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && a == b);
    }
}
