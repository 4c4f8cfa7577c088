using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Experiments;

/// <summary>
/// Builds the report of an experiment from what the store holds: figures as in the lottery
/// ticket papers, summary tables, and the hyperparameters.
/// </summary>
public static class ExperimentReports
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The report of an experiment, written by its kind, with every stored result as results.csv.</summary>
    public static Report Build(ExperimentStore store, ExperimentRef experiment, ReportOptions? options = null) =>
        experiment.Kind.Report(store, experiment, options ?? new ReportOptions()) with
        {
            ResultsCsv = ExperimentResults.Csv(experiment.Kind.Results(experiment)),
        };

    /// <summary>
    /// Two experiments of one kind overlaid (e.g. the standard and the warmup recipe): each curve labelled
    /// by the hyperparameters that differ between the two (<c>lr=0.01</c>), with one table of those differences.
    /// </summary>
    public static Report Compare(ExperimentStore store, ExperimentRef a, ExperimentRef b)
    {
        if (a.Kind != b.Kind) throw new ArgumentException($"Cannot overlay a {a.Kind.Name} experiment ({a.Name}) with a {b.Kind.Name} one ({b.Name}).");
        var first = Build(store, a);
        var second = Build(store, b);
        var recipes = new[] { SettingsOf(a), SettingsOf(b) };
        var differences = HparamDifferences.Of(recipes);
        string la = differences[0].Count > 0 ? HparamDifferences.Label(differences[0]) : a.Name;
        string lb = differences[1].Count > 0 ? HparamDifferences.Label(differences[1]) : b.Name;
        if (la == lb) (la, lb) = (a.Name, b.Name);
        var sections = new List<ReportSection>();
        var figuresA = first.Sections.SelectMany(s => s.Figures).ToArray();
        var figuresB = second.Sections.SelectMany(s => s.Figures).ToDictionary(f => f.Name);
        // Heatmaps cannot be overlaid: both experiments' come side by side.
        var heatmaps = figuresA.Where(f => f.Heatmap is not null).Select(f => f with { Name = f.Name + "_a", Title = $"{la}: {f.Title}" })
            .Concat(second.Sections.SelectMany(s => s.Figures).Where(f => f.Heatmap is not null).Select(f => f with { Name = f.Name + "_b", Title = $"{lb}: {f.Title}" }));
        var overlays = figuresA.Where(f => f.Heatmap is null && figuresB.ContainsKey(f.Name)).Select(f =>
        {
            var g = figuresB[f.Name];
            // One experiment's single series needs no name of its own beside the experiment's label.
            string Name(string label, string series, Figure figure) => figure.Series.Count == 1 ? label : $"{label}: {series}";
            return f with
            {
                Series = [.. f.Series.Select(s => s with { Label = Name(la, s.Label, f) }), .. g.Series.Select(s => s with { Label = Name(lb, s.Label, g), Dashed = true })],
                XTicks = MergedTicks([f, g]).Ticks,
                XTickLabels = MergedTicks([f, g]).Labels,
                ReferenceLines = [.. f.ReferenceLines.Select(r => r with { Label = $"{la}: {r.Label}" }), .. g.ReferenceLines.Select(r => r with { Label = $"{lb}: {r.Label}" })],
            };
        }).Concat(heatmaps).ToArray();
        var table = new ReportTable("What differs", ["setting", a.Name, b.Name],
            differences[0].Select((d, i) => (IReadOnlyList<string>)[d.Path, d.Text, differences[1][i].Text]).ToArray());
        sections.Add(new ReportSection("Overlay", differences[0].Count > 0 ? [table] : [], overlays,
            $"Solid lines: {a.Name} ({la}); dashed: {b.Name} ({lb})."
            + (differences[0].Count == 0 ? " The two recipes do not differ (or cannot be read)." : "")));
        sections.AddRange(first.Sections.Select(s => s with { Title = $"{la}: {s.Title}", Figures = [] }));
        sections.AddRange(second.Sections.Select(s => s with { Title = $"{lb}: {s.Title}", Figures = [] }));
        var hparams = first.Hyperparameters.Select(t => t with { Title = $"{a.Name}: {t.Title}" })
            .Concat(second.Hyperparameters.Select(t => t with { Title = $"{b.Name}: {t.Title}" })).ToArray();
        return new Report($"{a.Name} vs {b.Name}", hparams, sections)
        {
            ResultsCsv = ExperimentResults.Csv(a.Kind.Results(a).Concat(b.Kind.Results(b)), row => row.Experiment == a.Name ? la : lb),
        };
    }

    /// <summary>The x ticks of figures drawn together: all of them when every figure has its own, with their labels when every figure names them.</summary>
    public static (IReadOnlyList<double>? Ticks, IReadOnlyList<string>? Labels) MergedTicks(IReadOnlyList<Figure> figures)
    {
        if (figures.Any(f => f.XTicks is null)) return (null, null);
        var ticks = figures.SelectMany(f => f.XTicks!).Distinct().Order().ToArray();
        if (figures.Any(f => f.XTickLabels is null)) return (ticks, null);
        var labels = new Dictionary<double, string>();
        foreach (var f in figures)
            for (int i = 0; i < f.XTicks!.Count; i++) labels.TryAdd(f.XTicks[i], f.XTickLabels![i]);
        return (ticks, ticks.Select(t => labels[t]).ToArray());
    }

    /// <summary>Short label for titles: the recipe's model, learning rate and warmup.</summary>
    public static string Label(ExperimentRef experiment)
    {
        var hparams = HparamsOf(experiment);
        var training = hparams?["training"] ?? hparams?["lottery"]?["training"];
        var model = hparams?["model"] ?? hparams?["lottery"]?["model"];
        if (training is null) return experiment.Name;
        string warmup = (string?)training["warmup_steps"] is { } w && w != "0it" ? $", warmup {w}" : "";
        return $"{model?["model_name"]} lr {((double)training["lr"]!).ToString(Invariant)}{warmup}";
    }

    /// <summary>The experiment's recipe as its kind reads it; null when unreadable.</summary>
    public static JsonObject? HparamsOf(ExperimentRef experiment)
    {
        try
        {
            return experiment.Kind.Hyperparameters(experiment);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or System.Text.Json.JsonException or Store.RunIntegrityException)
        {
            return null;
        }
    }

    /// <summary>What sets the experiment apart (<see cref="ExperimentKind.Settings"/>); null when unreadable.</summary>
    public static JsonObject? SettingsOf(ExperimentRef experiment)
    {
        try
        {
            return experiment.Kind.Settings(experiment);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or System.Text.Json.JsonException or Store.RunIntegrityException)
        {
            return null;
        }
    }

    public static IReadOnlyList<ReportTable> HyperparameterTables(JsonObject? hparams)
    {
        if (hparams is null) return [];
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (group, values) in hparams)
        {
            if (values is JsonObject bundle)
                foreach (var (name, value) in bundle) rows.Add([group, name, value?.ToJsonString().Trim('"') ?? "(none)"]);
            else rows.Add(["", group, values?.ToJsonString().Trim('"') ?? "(none)"]);
        }
        return [new ReportTable("Hyperparameters", ["group", "name", "value"], rows)];
    }

    public static string P(double value) => value.ToString("P2", Invariant);

    // ---- lottery ----

    /// <summary>The test-error curve of one stored interpolation (a fraction; drawn in percent by <see cref="InterpolationFigure"/>).</summary>
    public static Series Curve(string label, JsonNode curve, bool dashed = false)
    {
        var points = curve["points"]!.AsArray();
        return new Series(label, points.Select(p => (double)p!["alpha"]!).ToArray(), points.Select(p => (double)p!["test_error"]!).ToArray(), Dashed: dashed);
    }

    /// <summary>Test error along linear interpolations: alpha from 0 to 1, error in percent (fractions in its CSV).</summary>
    public static Figure InterpolationFigure(string name, string title, IReadOnlyList<Series> curves) =>
        new(name, title, "interpolation coefficient", "test error (%)", curves) { YPercent = true, XColumn = "alpha", YColumn = "test_error" };
}
