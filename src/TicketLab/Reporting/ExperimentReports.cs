using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Experiments;
using TicketLab.Store;

namespace TicketLab.Reporting;

/// <summary>
/// Builds the report of an experiment from what the store holds: figures as in the lottery
/// ticket papers, summary tables, and the hyperparameters.
/// </summary>
public static class ExperimentReports
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The report of an experiment, written by its kind.</summary>
    public static Report Build(ExperimentStore store, ExperimentRef experiment, ReportOptions? options = null) =>
        experiment.Kind.Report(store, experiment, options ?? new ReportOptions());

    /// <summary>Two experiments of one kind overlaid (e.g. the standard and the warmup recipe).</summary>
    public static Report Compare(ExperimentStore store, ExperimentRef a, ExperimentRef b)
    {
        if (a.Kind != b.Kind) throw new ArgumentException($"Cannot overlay a {a.Kind.Name} experiment ({a.Name}) with a {b.Kind.Name} one ({b.Name}).");
        var first = Build(store, a);
        var second = Build(store, b);
        var sections = new List<ReportSection>();
        var figuresA = first.Sections.SelectMany(s => s.Figures).ToArray();
        var figuresB = second.Sections.SelectMany(s => s.Figures).ToDictionary(f => f.Name);
        var overlays = figuresA.Where(f => figuresB.ContainsKey(f.Name)).Select(f =>
        {
            var g = figuresB[f.Name];
            string la = Label(a), lb = Label(b);
            return f with
            {
                Series = [.. f.Series.Select(s => s with { Label = $"{la}: {s.Label}" }), .. g.Series.Select(s => s with { Label = $"{lb}: {s.Label}", Dashed = true })],
                XTicks = f.XTicks is null || g.XTicks is null ? null : f.XTicks.Union(g.XTicks).Order().ToArray(),
                ReferenceLines = [.. f.ReferenceLines.Select(r => r with { Label = $"{la}: {r.Label}" }), .. g.ReferenceLines.Select(r => r with { Label = $"{lb}: {r.Label}" })],
            };
        }).ToArray();
        sections.Add(new ReportSection("Overlay", [], overlays, $"Solid lines: {a.Name} ({Label(a)}); dashed: {b.Name} ({Label(b)})."));
        sections.AddRange(first.Sections.Select(s => s with { Title = $"{a.Name}: {s.Title}", Figures = [] }));
        sections.AddRange(second.Sections.Select(s => s with { Title = $"{b.Name}: {s.Title}", Figures = [] }));
        var hparams = first.Hyperparameters.Select(t => t with { Title = $"{a.Name}: {t.Title}" })
            .Concat(second.Hyperparameters.Select(t => t with { Title = $"{b.Name}: {t.Title}" })).ToArray();
        return new Report($"{a.Name} vs {b.Name}", hparams, sections);
    }

    /// <summary>Short legend label: the recipe's model, learning rate and warmup.</summary>
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
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Text.Json.JsonException)
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

    /// <summary>The test-error curve of one stored interpolation, in percent.</summary>
    public static Series Curve(string label, JsonNode curve, bool dashed = false)
    {
        var points = curve["points"]!.AsArray();
        return new Series(label, points.Select(p => (double)p!["alpha"]!).ToArray(), points.Select(p => 100 * (double)p!["test_error"]!).ToArray(), Dashed: dashed);
    }
}
