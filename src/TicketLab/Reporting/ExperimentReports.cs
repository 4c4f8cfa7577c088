using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Lottery;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Reporting;

public enum ExperimentKind { Train, Lottery, Instability, RewindSweep }

/// <summary>An experiment found in the store: its kind, where it lives and a short label for legends.</summary>
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
        string name = System.IO.Path.GetFileName(path);
        var kind = name switch
        {
            _ when name.StartsWith("train_", StringComparison.Ordinal) => ExperimentKind.Train,
            _ when name.StartsWith("lottery_", StringComparison.Ordinal) => ExperimentKind.Lottery,
            _ when name.StartsWith("instability_", StringComparison.Ordinal) => ExperimentKind.Instability,
            _ when name.StartsWith("rewind_sweep_", StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal) => ExperimentKind.RewindSweep,
            _ => throw new ArgumentException($"{path}: not a TicketLab experiment (expected train_*, lottery_*, instability_* or rewind_sweep_*.json)."),
        };
        return new ExperimentRef(kind, path, name.Replace(".json", ""));
    }
}

/// <summary>
/// Builds the report of an experiment from what the store holds: figures as in the lottery
/// ticket papers, summary tables, and the hyperparameters.
/// </summary>
public static class ExperimentReports
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <param name="curveLevels">Lottery levels whose training curves are drawn (default: first, middle and last).</param>
    public static Report Build(ExperimentStore store, ExperimentRef experiment, IReadOnlyList<int>? curveLevels = null) => experiment.Kind switch
    {
        ExperimentKind.Lottery => LotteryReport(store, experiment, curveLevels),
        ExperimentKind.Train => TrainReport(experiment),
        ExperimentKind.Instability => InstabilityReport(experiment),
        ExperimentKind.RewindSweep => SweepReport(experiment),
        _ => throw new ArgumentOutOfRangeException(nameof(experiment)),
    };

    /// <summary>Two experiments of one kind overlaid (e.g. the standard and the warmup recipe).</summary>
    public static Report Compare(ExperimentStore store, ExperimentRef a, ExperimentRef b)
    {
        if (a.Kind != b.Kind) throw new ArgumentException($"Cannot overlay a {a.Kind} experiment ({a.Name}) with a {b.Kind} one ({b.Name}).");
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

    private static JsonObject? HparamsOf(ExperimentRef experiment)
    {
        try
        {
            return experiment.Kind switch
            {
                ExperimentKind.RewindSweep => SweepHparams(experiment.Path),
                ExperimentKind.Instability => JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(experiment.Path, "analysis.json")))?.AsObject() is { } a
                    ? (a["training"] ?? a["lottery"])?.AsObject() : null,
                ExperimentKind.Lottery => JsonNode.Parse(File.ReadAllText(FirstReplicateFile(experiment.Path, "lottery.json")))?["lottery"]?.AsObject(),
                _ => new RunFolder(Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().First()).ReadHparams(),
            };
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>A sweep's recipe: stored in the sweep file, else read from its first copy's run.</summary>
    private static JsonObject? SweepHparams(string sweepFile)
    {
        var sweep = JsonNode.Parse(File.ReadAllText(sweepFile));
        if (sweep?["training"] is JsonObject training) return training;
        string? folder = (string?)sweep?["rows"]?[0]?["replicates"]?[0]?["folder"];
        return folder is null ? null : new RunFolder(System.IO.Path.Combine(folder, "copy_a")).ReadHparams();
    }

    private static string FirstReplicateFile(string experiment, string file) =>
        Directory.EnumerateDirectories(experiment, "replicate_*").Order().Select(d => System.IO.Path.Combine(d, file)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"{experiment}: no replicate holds {file}.");

    private static IReadOnlyList<ReportTable> HyperparameterTables(JsonObject? hparams)
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

    private static string P(double value) => value.ToString("P2", Invariant);

    // ---- lottery ----

    /// <summary>"88.12% (88.50%)", with the count of diverged replicates when there are any.</summary>
    private static string Cell(SeriesResult? result)
    {
        if (result is null) return "-";
        if (result.Final is not { } final) return result.DivergedNote;
        string text = $"{P(final.Mean)} ({P(result.Best!.Mean)})";
        return result.Diverged == 0 ? text : $"{text}; {result.DivergedNote}";
    }

    private static Report LotteryReport(ExperimentStore store, ExperimentRef experiment, IReadOnlyList<int>? curveLevels)
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
            new("Training curves", [], [TrainingCurves(experiment, rows.Select(r => r.Level).ToArray(), curveLevels)],
                "Test accuracy during training of the ticket at a few levels (replicate 1)."),
        };
        if (ComparisonSection(experiment, rows) is { } comparison) sections.Add(comparison);
        return new Report($"Lottery run {experiment.Name}", HyperparameterTables(HparamsOf(experiment)), sections);
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
                $"{P(l.PruningSolutionErrorBefore)} / {P(l.PruningSolutionErrorAfter)}",
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
    private static string FmtP(double? value) => value is { } v ? P(v) : "-";

    // ---- training run ----

    private static Report TrainReport(ExperimentRef experiment)
    {
        var replicates = Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().Select(d => new RunFolder(d)).Where(r => File.Exists(r.MetricsPath)).ToArray();
        Series Metric(RunFolder run, string metric, double scale) =>
            MetricsLog.Read(run.MetricsPath).Where(r => r.Name == metric).ToArray() is var rows
                ? new Series($"{System.IO.Path.GetFileName(run.Path)} {metric}", rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => scale * r.Value).ToArray())
                : throw new InvalidOperationException();
        var accuracy = new Figure("test_accuracy_vs_step", "Test accuracy during training", "training step (iterations)", "test accuracy (%)",
            replicates.Select(r => Metric(r, "test_accuracy", 100)).ToArray());
        var loss = new Figure("loss_vs_step", "Loss during training", "training step (iterations)", "cross-entropy loss",
            replicates.SelectMany(r => new[] { Metric(r, "test_loss", 1), Metric(r, "train_batch_loss", 1) with { Dashed = true } }).ToArray());
        var summary = new ReportTable("Summary", ["replicate", "final test accuracy", "best test accuracy", "seconds per epoch", "images/s"],
            replicates.Select(r => TrainingSummary.Read(r) switch
            {
                { Diverged: true } s => (IReadOnlyList<string>)[System.IO.Path.GetFileName(r.Path), s.DivergenceText, "-", "-", "-"],
                { } s => [System.IO.Path.GetFileName(r.Path), P(s.FinalTestAccuracy), P(s.BestTestAccuracy),
                    double.IsFinite(s.SecondsPerEpoch) ? s.SecondsPerEpoch.ToString("F2", Invariant) : "-",
                    double.IsFinite(s.ImagesPerSecond) ? s.ImagesPerSecond.ToString("N0", Invariant) : "-"],
                null => [System.IO.Path.GetFileName(r.Path), "unfinished", "-", "-", "-"],
            }).ToArray());
        return new Report($"Training run {experiment.Name}", HyperparameterTables(HparamsOf(experiment)),
            [new ReportSection("Training", [summary], [accuracy, loss])]);
    }

    // ---- instability and rewind sweeps ----

    private static IEnumerable<(int Replicate, JsonObject Result)> InstabilityResults(string experimentFolder) =>
        Directory.EnumerateDirectories(experimentFolder, "replicate_*").Order()
            // Several grids may be stored (other --points, --bn-recalibrate...): show the most recent one.
            .SelectMany(d => Directory.EnumerateFiles(d, "interpolation_*.json").OrderByDescending(File.GetLastWriteTimeUtc).Take(1))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())
            .Select(j => ((int)j["replicate"]!, j));

    private static Series Curve(string label, JsonNode curve, bool dashed = false)
    {
        var points = curve["points"]!.AsArray();
        return new Series(label, points.Select(p => (double)p!["alpha"]!).ToArray(), points.Select(p => 100 * (double)p!["test_error"]!).ToArray(), Dashed: dashed);
    }

    private static Report InstabilityReport(ExperimentRef experiment)
    {
        var results = InstabilityResults(experiment.Path).ToArray();
        var figure = new Figure("error_vs_alpha", "Test error along the line between the two copies", "interpolation coefficient", "test error (%)",
            results.Select(r => Curve($"replicate {r.Replicate}", r.Result["curve"]!)).ToArray());
        static string Grid(JsonNode? interpolation) => interpolation is null ? "-"
            : $"{interpolation["points"]} points, BN statistics " + ((int?)interpolation["bn_recalibration_batches"] is > 0 and var n ? $"recalibrated on {n} batches" : "interpolated");
        var table = new ReportTable("Barriers", ["replicate", "error barrier", "rise above chord", "loss barrier", "copy A test accuracy", "copy B test accuracy", "interpolation"],
            results.Select(r => (IReadOnlyList<string>)[r.Replicate.ToString(Invariant), P((double)r.Result["curve"]!["error_barrier"]!),
                P((double)r.Result["curve"]!["error_excess_over_chord"]!), ((double)r.Result["curve"]!["loss_barrier"]!).ToString("F4", Invariant),
                P((double)r.Result["endpoint_a_test_accuracy"]!), P((double)r.Result["endpoint_b_test_accuracy"]!), Grid(r.Result["interpolation"])]).ToArray());
        return new Report($"Instability analysis {experiment.Name}", HyperparameterTables(HparamsOf(experiment)),
            [new ReportSection("Linear mode connectivity", [table], [figure],
                "Error barrier: the largest test error along the line minus the mean of the two endpoints' errors (Frankle et al. 2020); stable to SGD noise under 2 points. "
                + "Rise above chord: the largest rise of the error above the straight line between the endpoint errors. See docs/analysis.md.")]);
    }

    private static Report SweepReport(ExperimentRef experiment)
    {
        var sweep = JsonNode.Parse(File.ReadAllText(experiment.Path))!;
        var rows = sweep["rows"]!.AsArray().Select(r => r!.AsObject()).ToArray();
        double Iteration(JsonObject row)
        {
            var step = StepSpec.Parse((string)row["step"]!);
            string folder = (string)row["replicates"]![0]!["folder"]!;
            var summary = TrainingSummary.Read(new RunFolder(System.IO.Path.Combine(folder, "copy_a")));
            int perEpoch = summary?.IterationsPerEpoch ?? 1;
            return step.ToStep(perEpoch).Iteration;
        }
        var x = rows.Select(Iteration).ToArray();
        var barrier = new Series("error barrier", x, rows.Select(r => 100 * (double)r["error_barrier"]!["mean"]!).ToArray(),
            rows.Select(r => 100 * (double)r["error_barrier"]!["min"]!).ToArray(), rows.Select(r => 100 * (double)r["error_barrier"]!["max"]!).ToArray());
        var barrierFigure = new Figure("barrier_vs_step", "Error barrier vs the step the copies start from", "start step (iterations)", "error barrier (percentage points)", [barrier]);
        var curves = new Figure("error_vs_alpha", "Test error along the line between the copies, per start step", "interpolation coefficient", "test error (%)",
            rows.Select(r => Curve((string)r["step"]!, r["replicates"]![0]!["curve"]!)).ToArray());
        var table = new ReportTable("Barrier per start step (mean, min-max over replicates)", ["start step", "iteration", "error barrier", "min", "max", "endpoint accuracy"],
            rows.Select((r, i) => (IReadOnlyList<string>)[(string)r["step"]!, x[i].ToString(Invariant), P((double)r["error_barrier"]!["mean"]!),
                P((double)r["error_barrier"]!["min"]!), P((double)r["error_barrier"]!["max"]!), P((double)r["endpoint_test_accuracy_mean"]!)]).ToArray());
        return new Report($"Rewind sweep {experiment.Name} ({Label(experiment)})", HyperparameterTables(HparamsOf(experiment)),
            [new ReportSection("Stability to SGD noise", [table], [barrierFigure, curves])]);
    }
}
