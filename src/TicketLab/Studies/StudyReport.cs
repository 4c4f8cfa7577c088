using System.Globalization;
using TicketLab.Experiments;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Studies;

/// <summary>An experiment of a study, found in the store, with the label that tells it from the others of its kind.</summary>
public sealed record StudyExperiment(ExperimentRef Experiment, string Label, IReadOnlyList<StudyUnit> Units);

/// <summary>
/// One report for a whole study: per kind of experiment, the experiments' figures overlaid (labelled by what differs between them: the swept values and the
/// experiment's own flags, never hashes) and their tables, then the progress (the unit table
/// folded); beside it, results.csv holds every result
/// of every experiment of the study, one number a row, with the experiment's label as first column.
/// </summary>
public static class StudyReport
{
    /// <param name="experimentOf">The store name of each unit's experiment (<c>lottery_&lt;hash&gt;</c>), as its command names it.</param>
    public static Report Build(ExperimentStore store, StudyStatus status, IReadOnlyDictionary<string, string> experimentOf)
    {
        var plan = status.Plan;
        var experiments = Experiments(store, plan, experimentOf);
        // The answers (figures and tables with their verdicts) lead; the progress, with the unit table folded, comes last.
        var sections = new List<ReportSection>();
        foreach (var kind in experiments.GroupBy(e => e.Experiment.Kind))
        {
            var reports = kind.Select(e => (e.Label, Report: TryBuild(store, e.Experiment))).Where(r => r.Report is not null).ToArray();
            if (reports.Length == 0) continue;
            var overlays = Overlay(reports.Select(r => (r.Label, r.Report!)).ToArray());
            sections.Add(new ReportSection($"{kind.Key.Title}: every experiment", [], overlays,
                $"{reports.Length} experiment(s), labelled by what differs between them: {string.Join("; ", reports.Select(r => r.Label))}."));
            foreach (var (label, report) in reports)
                sections.AddRange(report!.Sections.Where(s => s.Tables.Count > 0).Select(s => s with { Title = $"{kind.Key.Title} {label}: {s.Title}", Figures = [] }));
        }
        sections.Add(Progress(status, experiments));
        var flags = new ReportTable("Study", ["setting", "value"],
        [
            ["study file", plan.Study.SourcePath],
            ["shared flags", string.Join(" ", plan.Study.Flags.ToArgs())],
            .. plan.Study.Sweep.Select(s => (IReadOnlyList<string>)[$"swept: {s.Key}", string.Join(", ", s.Value)]),
            ["experiments", string.Join("; ", plan.Study.Experiments.Select(Describe))],
        ]);
        var labels = experiments.ToDictionary(e => e.Experiment.Name, e => e.Label);
        return new Report($"Study {plan.Study.Name}", [flags], sections)
        {
            ResultsCsv = ExperimentResults.Csv(experiments.SelectMany(e => TryResults(e.Experiment)), row => labels[row.Experiment]),
        };
    }

    /// <summary>An experiment's results; none while it cannot be read yet (a unit still writing it).</summary>
    private static IReadOnlyList<ResultRow> TryResults(ExperimentRef experiment)
    {
        try { return experiment.Kind.Results(experiment).ToArray(); }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            return [];
        }
    }

    private static string Describe(ExperimentSpec e) =>
        e.Kind.DescribeStudyEntry(e.Entry) + (e.Flags.Values.Count > 0 ? $" ({string.Join(" ", e.Flags.ToArgs())})" : "");

    /// <summary>The distinct experiments the units wrote to, each labelled by its recipe and, among several of one command, its own flags.</summary>
    private static IReadOnlyList<StudyExperiment> Experiments(ExperimentStore store, StudyPlan plan, IReadOnlyDictionary<string, string> experimentOf)
    {
        var result = new List<StudyExperiment>();
        foreach (var group in plan.Units.Where(u => experimentOf.ContainsKey(u.Id)).GroupBy(u => experimentOf[u.Id]))
        {
            string path = Path.Combine(store.Root, group.Key);
            if (!File.Exists(path) && !Directory.Exists(path)) continue;
            if (ExperimentRegistry.KindOf(path) is not { } kind) continue;
            var first = group.First();
            var spec = plan.Study.Experiments.Single(e => e.Index == first.ExperimentIndex);
            var parts = new List<string>();
            if (first.Recipe.Length > 0) parts.Add(first.Recipe);
            if (plan.Study.Experiments.Count(e => e.Command == spec.Command) > 1 && spec.Flags.Values.Count > 0)
                parts.Add(string.Join(",", spec.Flags.Values.Select(v => v.Value == FlagValue.Present ? v.Key : $"{v.Key}={v.Value}")));
            if (first.Command == "instability" && first.Level is { } level) parts.Add($"level {level}");
            if (parts.Count == 0) parts.Add(spec.Command);
            result.Add(new StudyExperiment(new ExperimentRef(kind, path, Path.GetFileName(path).Replace(".json", "")), string.Join(" ", parts), group.ToArray()));
        }
        return result;
    }

    private static Report? TryBuild(ExperimentStore store, ExperimentRef experiment)
    {
        try { return experiment.Kind.Report(store, experiment, new ReportOptions()); }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            return null; // unfinished experiments have nothing to draw yet; the progress table says so
        }
    }

    /// <summary>Figures of the same name drawn together, each series prefixed by its experiment's label.</summary>
    private static IReadOnlyList<Figure> Overlay(IReadOnlyList<(string Label, Report Report)> reports)
    {
        // A heatmap cannot be drawn over another: each experiment's comes on its own, its name and title telling which.
        var heatmaps = reports.SelectMany((r, i) => r.Report.Sections.SelectMany(s => s.Figures).Where(f => f.Heatmap is not null)
            .Select(f => reports.Count == 1 ? f : f with { Name = $"{f.Name}_{i + 1}", Title = $"{r.Label}: {f.Title}" }));
        var names = reports.SelectMany(r => r.Report.Sections.SelectMany(s => s.Figures).Where(f => f.Heatmap is null).Select(f => f.Name)).Distinct().ToArray();
        return heatmaps.Concat(names.Select(name =>
        {
            var figures = reports.Select(r => (r.Label, Figure: r.Report.Sections.SelectMany(s => s.Figures).FirstOrDefault(f => f.Name == name)))
                .Where(f => f.Figure is not null).ToArray();
            var first = figures[0].Figure!;
            bool single = reports.Count == 1;
            return first with
            {
                Series = figures.SelectMany(f => f.Figure!.Series.Select(s => single ? s : s with { Label = $"{f.Label}: {s.Label}" })).ToArray(),
                XTicks = ExperimentReports.MergedTicks(figures.Select(f => f.Figure!).ToArray()).Ticks,
                XTickLabels = ExperimentReports.MergedTicks(figures.Select(f => f.Figure!).ToArray()).Labels,
                ReferenceLines = figures.SelectMany(f => f.Figure!.ReferenceLines.Select(r => single ? r : r with { Label = $"{f.Label}: {r.Label}" })).ToArray(),
            };
        })).ToArray();
    }

    private static ReportSection Progress(StudyStatus status, IReadOnlyList<StudyExperiment> experiments)
    {
        var plan = status.Plan;
        var counts = Enum.GetValues<UnitState>().Where(s => status.Count(s) > 0).Select(s => $"{status.Count(s)} {s.ToString().ToLowerInvariant()}");
        var units = new ReportTable("Units", ["unit", "state", "attempts", "command"],
            plan.Units.Select(u => (IReadOnlyList<string>)[u.Id, status.States[u.Id].ToString().ToLowerInvariant(),
                status.Records[u.Id].Attempts.Count.ToString(CultureInfo.InvariantCulture), "ticketlab " + string.Join(' ', u.Args)]).ToArray()) { Folded = true };
        var stored = new ReportTable("Experiments in the store", ["label", "kind", "experiment", "units"],
            experiments.Select(e => (IReadOnlyList<string>)[e.Label, e.Experiment.Kind.Name, e.Experiment.Path, e.Units.Count.ToString(CultureInfo.InvariantCulture)]).ToArray());
        return new ReportSection("Progress", [stored, units], [],
            $"{status.Count(UnitState.Done)} of {plan.Units.Count} units done ({string.Join(", ", counts)}).");
    }
}
