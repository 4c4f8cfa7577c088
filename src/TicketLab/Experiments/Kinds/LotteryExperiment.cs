using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Lottery;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>lottery_&lt;hash&gt;/replicate_N/level_L/{main,&lt;branch&gt;_&lt;hash&gt;}</c> and
/// <c>replicate_N/compare_&lt;hash&gt;</c>: iterative magnitude pruning with its branches and
/// comparisons (<c>ticketlab lottery</c>, <c>branch</c>, <c>compare</c>).
/// </summary>
public sealed class LotteryExperiment : ExperimentKind
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => LotteryDesc.Prefix;
    public override string Title => "Lottery run";

    protected override ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder)
    {
        var layout = new LotteryLayout(folder.Path);
        var levels = layout.Levels().ToArray();
        var summaries = levels.Select(l => TrainingSummary.Read(layout.Main(l))).ToArray();
        int finished = summaries.Count(s => s is { Diverged: false });
        var desc = ReadObject(Path.Combine(folder.Path, "lottery.json"))?["lottery"];
        bool running = levels.Any(l => AnyRunning(layout.LevelFolder(l)));
        var diverged = summaries.Select((s, i) => (Summary: s, Level: levels[i])).FirstOrDefault(p => p.Summary is { Diverged: true });
        var branches = levels.SelectMany(l => Directory.EnumerateDirectories(layout.LevelFolder(l)).Select(Path.GetFileName))
            .Where(n => n != "main").Select(n => n![..n!.LastIndexOf('_')]).Distinct().Order(StringComparer.Ordinal).ToArray();
        var analyses = Directory.EnumerateDirectories(folder.Path).Select(Path.GetFileName)
            .Select(n => n!.Contains('_') ? n[..n.LastIndexOf('_')] : n)
            .Where(n => n == "compare" || LevelAnalysisRegistry.All.Any(a => a.Name == n)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var state = diverged.Summary is not null ? ExperimentState.Diverged
            : running ? ExperimentState.Running
            : levels.Length > 0 && finished == levels.Length ? ExperimentState.Finished
            : levels.Length == 0 ? ExperimentState.New : ExperimentState.Partial;
        string detail = diverged.Summary is { } d ? $"level {diverged.Level} {d.DivergenceText}"
            : $"{finished}/{levels.Length} levels finished{(running ? ", running" : "")}";
        if (branches.Length > 0) detail += $"; branches: {string.Join(", ", branches)}";
        if (analyses.Length > 0) detail += $"; analyses: {string.Join(", ", analyses)}";
        return new ListEntry(experiment, Name, replicate, state, detail, folder.Path)
        {
            Model = Field(desc, "model", "model_name"), Dataset = Field(desc, "dataset", "dataset_name"),
            Summary = summaries.LastOrDefault(s => s is { Diverged: false }),
        };
    }

    public override JsonObject? Hyperparameters(ExperimentRef experiment) =>
        JsonNode.Parse(File.ReadAllText(FirstReplicateFile(experiment.Path, "lottery.json")))?["lottery"]?.AsObject();

    /// <summary>"88.12% (88.50%)", with the count of diverged replicates when there are any.</summary>
    private static string Cell(SeriesResult? result)
    {
        if (result is null) return "-";
        if (result.Final is not { } final) return result.DivergedNote;
        string text = $"{ExperimentReports.P(final.Mean)} ({ExperimentReports.P(result.Best!.Mean)})";
        return result.Diverged == 0 ? text : $"{text}; {result.DivergedNote}";
    }

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var table = LotteryTable.Read(new ExperimentStore(System.IO.Path.GetDirectoryName(experiment.Path)!), experiment.Name);
        var rows = table.Rows.Where(r => double.IsFinite(r.PercentRemaining)).OrderBy(r => r.Level).ToArray();
        var ticks = rows.Select(r => Math.Round(r.PercentRemaining, 1)).Distinct().ToArray();
        var series = table.SeriesNames.Select(name =>
        {
            var points = rows.Where(r => r.Series.GetValueOrDefault(name)?.Final is not null).Select(r => (X: r.PercentRemaining, R: r.Series[name].Final!)).ToArray();
            return new Series(name, points.Select(p => p.X).ToArray(), points.Select(p => 100 * p.R.Mean).ToArray(),
                points.Select(p => 100 * p.R.Min).ToArray(), points.Select(p => 100 * p.R.Max).ToArray());
        }).Where(s => s.X.Count > 0).ToArray();
        var accuracy = new Figure("accuracy_vs_remaining", "Final test accuracy vs weights remaining", "weights remaining (%)", "test accuracy (%)", series)
        {
            LogX = true, ReverseX = true, XTicks = ticks,
            ReferenceLines = table.Dense is { Final: { } dense } ? [new ReferenceLine("dense (level 0)", 100 * dense.Mean)] : [],
        };
        var summary = new ReportTable("Test accuracy per level (mean over replicates; final, best in brackets)",
            ["level", "% weights remaining", .. table.SeriesNames],
            table.Rows.Select(r => (IReadOnlyList<string>)[r.Level.ToString(Invariant), r.PercentRemaining.ToString("F1", Invariant),
                .. table.SeriesNames.Select(n => Cell(r.Series.GetValueOrDefault(n)))]).ToArray());
        string text = $"{table.Replicates.Count} replicate(s). Bands span the minimum and maximum over replicates. "
            + (table.MatchesDenseUpTo() is { } level
                ? $"Tickets match the dense accuracy (within 0.5 points) up to level {level} ({rows.FirstOrDefault(r => r.Level == level)?.PercentRemaining.ToString("F1", Invariant)}% of weights remaining)."
                : "");
        var sections = new List<ReportSection>
        {
            new("Accuracy vs sparsity", [summary], [accuracy], text),
            new("Training curves", [], [TrainingCurves(experiment, rows.Select(r => r.Level).ToArray(), options.CurveLevels)],
                "Test accuracy during training of the ticket at a few levels (replicate 1)."),
        };
        if (ComparisonSection(experiment, rows) is { } comparison) sections.Add(comparison);
        var replicateFolders = Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().ToArray();
        foreach (var analysis in LevelAnalysisRegistry.All)
            if (analysis.Tables(replicateFolders) is { Count: > 0 } tables)
                sections.Add(new ReportSection($"Analysis: {analysis.Name}", tables, [], analysis.Description + "."));
        return new Report($"Lottery run {experiment.Name}", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)), sections);
    }

    private static Figure TrainingCurves(ExperimentRef experiment, IReadOnlyList<int> levels, IReadOnlyList<int>? requested)
    {
        var layout = new LotteryLayout(Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().First());
        var chosen = requested ?? (levels.Count <= 3 ? levels : [levels[0], levels[levels.Count / 2], levels[^1]]);
        var series = chosen.Where(l => File.Exists(layout.Main(l).MetricsPath)).Select(l =>
        {
            var rows = MetricsLog.Read(layout.Main(l).MetricsPath).Where(r => r.Name == "test_accuracy").ToArray();
            return new Series($"level {l}", rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => 100 * r.Value).ToArray());
        }).ToArray();
        return new Figure("accuracy_vs_step", "Test accuracy during training", "training step (iterations)", "test accuracy (%)", series);
    }

    private static ReportSection? ComparisonSection(ExperimentRef experiment, IReadOnlyList<LevelRow> rows)
    {
        string replicate = Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().First();
        // The most recent comparison written in the current format ("networks" names T, P, R, T2, D);
        // folders from TicketLab's earlier ticket-vs-dense comparison are skipped.
        var folder = Directory.Exists(replicate)
            ? Directory.EnumerateDirectories(replicate, "compare_*")
                .Where(f => Directory.EnumerateFiles(f, "level_*.json").FirstOrDefault() is { } file && JsonNode.Parse(File.ReadAllText(file))?["networks"] is not null)
                .OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        if (folder is null) return null;
        var levels = Directory.EnumerateFiles(folder, "level_*.json")
            .Select(f => Analysis.LevelComparison.FromJson(JsonNode.Parse(File.ReadAllText(f))!)).OrderBy(l => l.Level).ToArray();
        if (levels.Length == 0) return null;
        Series Line(string pair, string label, Func<Analysis.PairComparison, double> value)
        {
            var points = levels.Where(l => l.Pair(pair) is not null).ToArray();
            return new Series(label, points.Select(l => 100 * l.Density).ToArray(), points.Select(l => value(l.Pair(pair)!)).ToArray());
        }
        var ticks = levels.Select(l => Math.Round(100 * l.Density, 1)).Distinct().ToArray();
        Figure Make(string name, string title, string y, params Series[] series) =>
            new(name, title, "weights remaining (%)", y, series.Where(s => s.X.Count > 0).ToArray()) { LogX = true, ReverseX = true, XTicks = ticks };
        const string tp = Analysis.TicketComparison.TP, rp = Analysis.TicketComparison.RP, tt2 = Analysis.TicketComparison.TT2,
            td = Analysis.TicketComparison.TD, rd = Analysis.TicketComparison.RD;
        static double Normalized(Analysis.PairComparison p) => p.End.NormalizedL2Distance;
        var figures = new[]
        {
            Make("distance_vs_remaining", "L2 distance between trained endpoints (surviving weights, / norm of the second)", "normalized L2 distance",
                Line(tp, "T-P: ticket vs pruning solution", Normalized), Line(rp, "R-P: scratch vs pruning solution", Normalized),
                Line(tt2, "T-T2: noise floor (two retrains of the ticket)", Normalized), Line(td, "T-D: ticket vs dense", Normalized)),
            Make("start_distance_vs_remaining", "L2 distance between starting points (/ norm of the second's end)", "normalized L2 distance",
                Line(tp, "T-P", p => p.Start.L2Distance / p.End.ReferenceNorm), Line(rp, "R-P", p => p.Start.L2Distance / p.End.ReferenceNorm)),
            Make("barrier_vs_remaining", "Error barrier of linear interpolation between trained endpoints", "error barrier (percentage points)",
                Line(tp, "T-P", p => 100 * p.Curve.ErrorBarrier), Line(rp, "R-P", p => 100 * p.Curve.ErrorBarrier),
                Line(tt2, "T-T2 (noise floor)", p => 100 * p.Curve.ErrorBarrier), Line(td, "T-D", p => 100 * p.Curve.ErrorBarrier),
                Line(rd, "R-D", p => 100 * p.Curve.ErrorBarrier)),
        };
        var table = new ReportTable("Ticket vs pruning solution, per level (replicate 1)",
            ["level", "% remaining", "P error before / after fine-tuning", "L2 T-P start -> end", "L2 R-P end", "L2 T-T2 end", "angle T-P",
             "barrier T-P", "barrier R-P", "barrier T-T2", "barrier T-D", "same region", "same basin"],
            levels.Select(l => (IReadOnlyList<string>)[
                l.Level.ToString(Invariant), (100 * l.Density).ToString("F1", Invariant),
                $"{ExperimentReports.P(l.PruningSolutionErrorBefore)} / {ExperimentReports.P(l.PruningSolutionErrorAfter)}",
                l.Pair(tp) is { } p ? $"{Fmt(p.Start.L2Distance / p.End.ReferenceNorm)} -> {Fmt(Normalized(p))}" : "-",
                Fmt(l.Pair(rp) is { } r ? Normalized(r) : null), Fmt(l.Pair(tt2) is { } n ? Normalized(n) : null),
                Fmt(l.Pair(tp)?.End.AngularDistance),
                FmtP(l.Pair(tp)?.Curve.ErrorBarrier), FmtP(l.Pair(rp)?.Curve.ErrorBarrier), FmtP(l.Pair(tt2)?.Curve.ErrorBarrier), FmtP(l.Pair(td)?.Curve.ErrorBarrier),
                l.SameRegion().Text, l.SameBasin(Analysis.InterpolationCurve.StabilityThreshold).Text]).ToArray());
        var first = levels[0];
        return new ReportSection("Ticket vs pruning solution", [table], figures,
            "T: ticket; P: pruning solution (the previous level's trained network on this level's mask, fine-tuned); R: scratch network (random re-initialization of the mask); "
            + "T2: the ticket retrained with another data order (noise floor); D: dense solution (level 0). Distances over the mask's surviving weights; "
            + "barrier: max test error along the line between trained endpoints minus the mean of the endpoint errors (Frankle et al. 2020). "
            + $"Same region: {first.SameRegion().Rule}. Same basin: {first.SameBasin(Analysis.InterpolationCurve.StabilityThreshold).Rule} (threshold 2 points). See docs/analysis.md.");
    }

    private static string Fmt(double? value) => value?.ToString("F3", Invariant) ?? "-";
    private static string FmtP(double? value) => value is { } v ? ExperimentReports.P(v) : "-";

}
