using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Lottery.Branches;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>lottery_&lt;hash&gt;/replicate_N/level_L/{main,&lt;branch&gt;_&lt;hash&gt;}</c> and
/// <c>replicate_N/compare_&lt;hash&gt;</c>: iterative magnitude pruning with its branches and
/// comparisons (<c>ticketlab lottery</c>, <c>branch</c>, <c>compare</c>).
/// </summary>
public sealed class LotteryExperiment : ExperimentKind<LotteryRunHparams>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => LotteryDesc.Prefix;
    public override string Title => "Lottery run";
    public override string? CommandDescription => "Find lottery tickets by iterative magnitude pruning: train, prune, rewind, retrain. Results go to <root>/lottery_<hash>/replicate_<n>/level_<L>/main.";
    public override CommandInputs Inputs => CommandInputs.LotteryRun;

    protected override string EntryName(ExperimentInputs inputs, LotteryRunHparams hparams) => inputs.LotteryRun.RunName;

    protected override ExperimentOutcome Run(ExperimentRequest request, LotteryRunHparams hparams)
    {
        var desc = request.Inputs.LotteryRun;
        var context = request.Context;
        var log = request.Log;
        // One-shot pruning has one pruned level, whatever --levels says; the banner says what runs.
        string levelText = desc.Lottery.OneShotSparsity is { } sparsity && hparams.Levels > 1
            ? FormattableString.Invariant($"1 level (one-shot pruning to sparsity {sparsity}; --levels {hparams.Levels} does not apply)")
            : $"{hparams.Levels} level(s)";
        log.WriteLine($"Lottery run {desc.RunName}: {levelText}, rewinding to {desc.Lottery.RewindStep}.");
        log.Write(desc.Training.Describe() + HparamJson.Describe(desc.Pruning) + HparamJson.Describe(desc.Lottery));
        log.Write("Pruning per tensor, as applied:\n" + LotteryRunner.EffectiveRates(desc, context));
        log.WriteLine($"Output: {context.Store.ExperimentFolder(desc.RunName)}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var diverged = new List<(int Replicate, LevelResult Level)>();
        // The replicates side by side: each level of all of them trains together (stacked; --networks-per-process 1: one by one).
        var replicates = request.Inputs.Replicates;
        var levels = request.Progress.Track(context, c => LotteryRunner.Run(desc, replicates, hparams.Levels, request.Options, c));
        for (int i = 0; i < replicates.Count; i++)
            diverged.AddRange(levels[i].Where(l => l.Summary.Diverged).Select(l => (replicates[i], l)));
        log.WriteLine($"Wall time: {clock.Elapsed.TotalSeconds:F1} s.");
        var table = LotteryTable.Read(context.Store, desc.RunName);
        // Divergence is a result, shown in the table; the exit code still tells a script that IMP stopped early.
        var errors = diverged.Select(d => $"level {d.Level.Level} of replicate {d.Replicate} {d.Level.Summary.DivergenceText}; IMP stopped there. Lower --lr (or add --warmup-steps) and run again.").ToArray();
        return Summary(table) with { Errors = errors, ExitCode = errors.Length > 0 ? ExperimentOutcome.Diverged : 0 };
    }

    /// <summary>What <c>lottery</c> and <c>branch</c> end with: the table of every level and series, and the level up to which tickets match the dense network.</summary>
    public static ExperimentOutcome Summary(LotteryTable table)
    {
        string[] notes = table.Dense is { Final: { } dense }
            ? [string.Create(Invariant, $"Dense (level 0) final test accuracy: {dense.Mean:P2}; tickets match it (within 0.5 points) up to level {table.MatchesDenseUpTo()?.ToString(Invariant) ?? "-"}.")]
            : [];
        return new ExperimentOutcome(table.RunName) { Tables = [SummaryTable(table)], Notes = notes, Json = table.ToJson() };
    }

    /// <summary>Level, % remaining, then per series "final [min-max]; best" in percent.</summary>
    private static ReportTable SummaryTable(LotteryTable table)
    {
        var series = table.SeriesNames;
        string[] header = ["level", "% weights remaining", .. series.Select(name => $"{ShortName(name, series)}: final [min-max]; best (%)")];
        var rows = table.Rows.Select(row => (IReadOnlyList<string>)[
            row.Level.ToString(Invariant), (100 * row.FractionRemaining).ToString("F1", Invariant),
            .. series.Select(name => row.Series.GetValueOrDefault(name) is { } result ? SummaryCell(result) : "-")]).ToArray();
        return new ReportTable($"{table.RunName} ({table.Replicates.Count} replicate(s); test accuracy, mean over replicates)", header, rows);
    }

    /// <summary>A branch's name without its hash, unless two variants of the branch are shown.</summary>
    private static string ShortName(string series, IReadOnlyList<string> all)
    {
        int cut = series.LastIndexOf('_');
        if (cut < 0 || series.Length - cut != 9) return series;
        string name = series[..cut];
        return all.Count(s => s.StartsWith(name + "_", StringComparison.Ordinal) && s.Length == series.Length) == 1 ? name : series;
    }

    /// <summary>"88.12 [87.90-88.34]; 88.50", with "diverged" for replicates whose loss stopped being finite.</summary>
    private static string SummaryCell(SeriesResult result)
    {
        if (result.Final is not { } final) return result.DivergedNote;
        string text = string.Create(Invariant, $"{Percent(final)}; {result.Best!.Mean * 100:F2}");
        return result.Diverged == 0 ? text : $"{text} ({result.DivergedNote})";
    }

    private static string Percent(Aggregate value) => value.Count == 1
        ? (100 * value.Mean).ToString("F2", Invariant)
        : string.Create(Invariant, $"{100 * value.Mean:F2} [{100 * value.Min:F2}-{100 * value.Max:F2}]");

    // ---- in a study: levels in order, each level's branches, analyses and instability after it ----

    public override IReadOnlyList<string> StudyKeys => ["levels", "branches", "instability", "compare", "analyses"];

    public override IEnumerable<PlannedUnit> Expand(IStudyEntry entry)
    {
        var plan = StudyLotteryPlan.Read(entry);
        static string Int(int value) => value.ToString(Invariant);
        for (int r = 1; r <= entry.Replicates; r++)
        {
            string replicate = $"replicate_{r}";
            string[] replicateArgs = ["--replicate", Int(r)];
            // IMP levels are sequential: level L prunes level L-1's trained network.
            for (int level = 0; level <= plan.Levels; level++)
            {
                string levelId = $"{replicate}/level_{level}";
                yield return new PlannedUnit(levelId, CommandName, [.. replicateArgs, "--levels", Int(level)], level == 0 ? [] : [$"{replicate}/level_{level - 1}"], r, level);
                string[] after = [levelId];
                // A control's levels run in order too: in a repellent run (--repel-lambda) each is
                // repelled from the control's own earlier levels.
                if (level >= 1)
                    foreach (var branch in plan.Branches)
                        yield return new PlannedUnit($"{levelId}/{branch.Name}", $"branch {branch.Name}", [.. branch.Args, .. replicateArgs, "--levels", Int(level)],
                            level == 1 ? after : [levelId, $"{replicate}/level_{level - 1}/{branch.Name}"], r, level);
                if (plan.InstabilityLevels.Contains(level))
                    yield return new PlannedUnit($"{levelId}/instability", "instability", [.. replicateArgs, "--level", Int(level)], after, r, level);
                // An analysis may read the level's branches; one over the rounds also its own result at the level before (and so earlier branches).
                string[] branchUnits = level >= 1 ? [.. plan.Branches.Select(b => $"{levelId}/{b.Name}")] : [];
                foreach (var analysis in plan.Analyses)
                    if (LevelAnalysisRegistry.Get(analysis.Name) is var registered && level >= registered.FirstLevel)
                        yield return new PlannedUnit($"{levelId}/{analysis.Name}", $"analyze {analysis.Name}", [.. analysis.Args, .. replicateArgs, "--levels", Int(level)],
                            [.. after, .. branchUnits, .. registered.ReadsEarlierLevels && level > registered.FirstLevel ? [$"{replicate}/level_{level - 1}/{analysis.Name}"] : Array.Empty<string>()], r, level);
            }
        }
    }

    public override string DescribeStudyEntry(IStudyEntry entry)
    {
        var plan = StudyLotteryPlan.Read(entry);
        return $"lottery, {plan.Levels} levels, {entry.Replicates} replicate(s)"
            + (plan.Branches.Count > 0 ? $", branches {string.Join(", ", plan.Branches.Select(b => b.Name))}" : "")
            + (plan.InstabilityLevels.Count > 0 ? $", instability at levels {string.Join(", ", plan.InstabilityLevels)}" : "")
            + (plan.Analyses.Count > 0 ? $", analyses {string.Join(", ", plan.Analyses.Select(a => a.Name))}" : "");
    }

    /// <summary>A lottery <c>[[experiment]]</c>'s own keys, checked: known branches and analyses, instability levels within the levels.</summary>
    private sealed record StudyLotteryPlan(int Levels, IReadOnlyList<NamedFlags> Branches, IReadOnlyList<int> InstabilityLevels, IReadOnlyList<NamedFlags> Analyses)
    {
        public static StudyLotteryPlan Read(IStudyEntry entry)
        {
            int levels = entry.Integer("levels", min: 0, fallback: 3);
            var branches = entry.Named("branches", "\"random_reinit\" or { name = \"retrain\", flags = { retrain-lr = 0.05 } }");
            var analyses = entry.Named("analyses", "\"layer_density\" or { name = \"layer_density\", flags = { magnitudes = true } }").ToList();
            // compare = true is kept as the short form of analyses = ["compare"].
            if (entry.Has("compare") && entry.Boolean("compare") && analyses.All(a => a.Name != "compare")) analyses.Add(new NamedFlags("compare", []));
            foreach (var branch in branches.Where(b => BranchRegistry.All.All(k => k.Name != b.Name)))
                throw entry.Error("branches", $"unknown branch '{branch.Name}'; known: {string.Join(", ", BranchRegistry.All.Select(k => k.Name))}.");
            foreach (var analysis in analyses.Where(a => LevelAnalysisRegistry.All.All(k => k.Name != a.Name)))
                throw entry.Error("analyses", $"unknown analysis '{analysis.Name}'; known: {string.Join(", ", LevelAnalysisRegistry.All.Select(k => k.Name))}.");
            var instability = entry.Integers("instability", min: 0);
            if (instability.FirstOrDefault(level => level > levels) is var beyond && beyond > levels)
                throw entry.Error("instability", $"level {beyond} is past the last level ({levels}).");
            return new StudyLotteryPlan(levels, branches, instability.Distinct().Order().ToArray(), analyses);
        }
    }

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
        bool imported = IsImported(folder);
        if (imported) detail += "; imported from OpenLTH";
        return new ListEntry(experiment, Name, replicate, state, detail, folder.Path)
        {
            Model = Field(desc, "model", "model_name"), Dataset = Field(desc, "dataset", "dataset_name"),
            Summary = summaries.LastOrDefault(s => s is { Diverged: false }), Imported = imported,
        };
    }

    private static bool IsImported(RunFolder replicate) => ReadObject(Path.Combine(replicate.Path, "lottery.json"))?["imported_from"] is not null;

    /// <summary>The replicate's row, then a row per level: its state, weights remaining, accuracies and the branches run on it.</summary>
    protected override IEnumerable<ListEntry> ListReplicateRows(string experiment, int? replicate, RunFolder folder)
    {
        var whole = ListReplicate(experiment, replicate, folder);
        yield return whole;
        var layout = new LotteryLayout(folder.Path);
        foreach (int level in layout.Levels())
        {
            var run = layout.Main(level);
            double? fraction = LotteryTable.FractionRemaining(layout.MaskSummaryPath(level));
            var branches = Directory.EnumerateDirectories(layout.LevelFolder(level)).Select(Path.GetFileName).Where(n => n != "main")
                .Select(n => n![..n!.LastIndexOf('_')]).Distinct().Order(StringComparer.Ordinal).ToArray();
            var summary = TrainingSummary.Read(run);
            string detail = (fraction is { } f ? string.Create(Invariant, $"{100 * f:F1}% of weights remain") : "weights remaining unknown")
                + (summary is { Diverged: true } ? $"; {summary.DivergenceText}" : "")
                + (branches.Length > 0 ? $"; branches: {string.Join(", ", branches)}" : "")
                + (whole.Imported ? "; imported from OpenLTH" : "");
            yield return new ListEntry(experiment, Name, replicate, StateOf(run), detail, run.Path)
            {
                Level = level, Model = whole.Model, Dataset = whole.Dataset, Summary = summary is { Diverged: false } ? summary : null, Imported = whole.Imported,
            };
        }
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

    /// <summary>
    /// Per replicate, level and series (the ticket and each branch, labelled by its settings): the
    /// results of its training run, with the level's fraction of weights remaining; then, for the
    /// latest comparison of each replicate, per level and pair (<c>T-P</c>, <c>R-P</c>, ...) its
    /// distances, agreement, ensemble and barrier, and the pruning solution's error (series <c>P</c>).
    /// </summary>
    public override IEnumerable<ResultRow> Results(ExperimentRef experiment)
    {
        foreach (var (replicate, folder) in ReplicateFolders(experiment.Path))
        {
            var layout = new LotteryLayout(folder);
            var fractions = new Dictionary<int, double?>();
            foreach (int level in layout.Levels())
            {
                fractions[level] = LotteryTable.FractionRemaining(layout.MaskSummaryPath(level));
                foreach (var runPath in Directory.EnumerateDirectories(layout.LevelFolder(level)).Order(StringComparer.Ordinal))
                {
                    var run = new RunFolder(runPath);
                    if (TrainingSummary.Read(run) is not { } summary) continue;
                    string series = Path.GetFileName(runPath) == "main" ? LotteryTable.Ticket : LotteryTable.BranchLabel(run);
                    foreach (var row in TrainingResults(experiment.Name, replicate, series, summary))
                        yield return row with { Level = level, FractionRemaining = fractions[level] };
                }
            }
            foreach (var comparison in LatestComparison(folder))
            {
                ResultRow Row(string series, string metric, double value) =>
                    new(experiment.Name, Name, replicate, series, metric, value) { Level = comparison.Level, FractionRemaining = comparison.Density };
                yield return Row("P", "error_before_finetuning", comparison.PruningSolutionErrorBefore);
                yield return Row("P", "error_after_finetuning", comparison.PruningSolutionErrorAfter);
                foreach (var pair in comparison.Pairs)
                {
                    double scale = pair.End.ReferenceNorm;
                    (string Metric, double Value)[] values =
                    [
                        ("start_normalized_l2_distance", DataNumbers.Derived(pair.Start.L2Distance / scale)),
                        ("normalized_l2_distance", DataNumbers.Derived(pair.End.NormalizedL2Distance)),
                        ("cosine_similarity", pair.End.CosineSimilarity), ("angular_distance", pair.End.AngularDistance),
                        ("sign_agreement", pair.End.SignAgreement), ("prediction_disagreement", pair.PredictionDisagreement),
                        ("ensemble_test_accuracy", pair.EnsembleAccuracy), ("test_accuracy_a", pair.AccuracyA), ("test_accuracy_b", pair.AccuracyB),
                        ("error_barrier", DataNumbers.Derived(pair.Curve.ErrorBarrier)), ("loss_barrier", DataNumbers.Derived(pair.Curve.LossBarrier)),
                        ("error_excess_over_chord", DataNumbers.Derived(pair.Curve.ErrorExcessOverChord)),
                    ];
                    foreach (var (metric, value) in values.Where(v => double.IsFinite(v.Value))) yield return Row(pair.Name, metric, value);
                }
            }
        }
    }

    /// <summary>
    /// The levels of a replicate's most recent comparison written in the current format ("networks"
    /// names T, P, R, T2, D); folders from TicketLab's earlier ticket-vs-dense comparison are skipped.
    /// </summary>
    private static IReadOnlyList<Analysis.LevelComparison> LatestComparison(string replicateFolder)
    {
        // The analysis stores {"analysis", "hparams", ..., "result"}; comparisons written before compare was a registered analysis are the result itself.
        static JsonNode? Comparison(string file) => JsonNode.Parse(File.ReadAllText(file)) is { } json ? json["result"] ?? json : null;
        var folder = Directory.Exists(replicateFolder)
            ? Directory.EnumerateDirectories(replicateFolder, "compare_*")
                .Where(f => Directory.EnumerateFiles(f, "level_*.json").FirstOrDefault() is { } file && Comparison(file)?["networks"] is not null)
                .OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        if (folder is null) return [];
        return Directory.EnumerateFiles(folder, "level_*.json")
            .Select(f => Analysis.LevelComparison.FromJson(Comparison(f)!)).OrderBy(l => l.Level).ToArray();
    }

    /// <summary>Ticks at the levels' fractions, labelled in percent to 3 digits (26.2 for 0.262144).</summary>
    private static (IReadOnlyList<double> Ticks, IReadOnlyList<string> Labels) RemainingTicks(IEnumerable<double> fractions)
    {
        var ticks = fractions.Where(double.IsFinite).Distinct().OrderDescending().ToArray();
        return (ticks, ticks.Select(t => (100 * t).ToString("G3", Invariant)).ToArray());
    }

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var table = LotteryTable.Read(new ExperimentStore(System.IO.Path.GetDirectoryName(experiment.Path)!), experiment.Name);
        var rows = table.Rows.Where(r => double.IsFinite(r.FractionRemaining)).OrderBy(r => r.Level).ToArray();
        var (ticks, tickLabels) = RemainingTicks(rows.Select(r => r.FractionRemaining));
        var series = table.SeriesNames.Select(name =>
        {
            var points = rows.Where(r => r.Series.GetValueOrDefault(name)?.Final is not null).Select(r => (X: r.FractionRemaining, R: r.Series[name].Final!)).ToArray();
            return new Series(name, points.Select(p => p.X).ToArray(), points.Select(p => p.R.Mean).ToArray(),
                points.Select(p => p.R.Min).ToArray(), points.Select(p => p.R.Max).ToArray(), Dashed: name != LotteryTable.Ticket)
            {
                Replicates = points.Select(p => p.R.Count).ToArray(),
            };
        }).Where(s => s.X.Count > 0).ToArray();
        var accuracy = new Figure("accuracy_vs_remaining", "Final test accuracy vs weights remaining", "weights remaining (%)", "test accuracy (%)", series)
        {
            LogX = true, ReverseX = true, XTicks = ticks, XTickLabels = tickLabels, XPercent = true, YPercent = true,
            XColumn = "fraction_remaining", YColumn = "final_test_accuracy",
            ReferenceLines = table.Dense is { Final: { } dense } ? [new ReferenceLine("dense (level 0)", dense.Mean)] : [],
        };
        var summary = new ReportTable("Test accuracy per level (mean over replicates; final, best in brackets)",
            ["level", "% weights remaining", .. table.SeriesNames],
            table.Rows.Select(r => (IReadOnlyList<string>)[r.Level.ToString(Invariant), (100 * r.FractionRemaining).ToString("F1", Invariant),
                .. table.SeriesNames.Select(n => Cell(r.Series.GetValueOrDefault(n)))]).ToArray());
        string text = $"{table.Replicates.Count} replicate(s). Bands span the minimum and maximum over replicates; "
            + "when series stand for different numbers of replicates, the legend gives each one's count and points with fewer are ringed. "
            + (table.MatchesDenseUpTo() is { } level
                ? $"Tickets match the dense accuracy (within 0.5 points) up to level {level} ({(100 * rows.FirstOrDefault(r => r.Level == level)?.FractionRemaining)?.ToString("F1", Invariant)}% of weights remaining)."
                : "");
        var sections = new List<ReportSection>
        {
            new("Accuracy vs sparsity", [summary], [accuracy], text),
            new("Training curves", [], [TrainingCurves(experiment, rows.Select(r => r.Level).ToArray(), options.CurveLevels)],
                "Test accuracy during training of the ticket at a few levels (replicate 1)."),
        };
        if (ComparisonSection(experiment, options.BasinThreshold) is { } comparison) sections.Add(comparison);
        var replicateFolders = Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().ToArray();
        foreach (var analysis in LevelAnalysisRegistry.All.Where(a => a.HasOwnReportSection))
            if (analysis.Tables(replicateFolders) is { Count: > 0 } tables)
                sections.Add(new ReportSection($"Analysis: {analysis.Name}", tables, analysis.Figures(replicateFolders), analysis.Description + "."));
        return new Report($"Lottery run {experiment.Name}", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)), sections);
    }

    private static Figure TrainingCurves(ExperimentRef experiment, IReadOnlyList<int> levels, IReadOnlyList<int>? requested)
    {
        var layout = new LotteryLayout(Directory.EnumerateDirectories(experiment.Path, "replicate_*").Order().First());
        var chosen = requested ?? (levels.Count <= 3 ? levels : [levels[0], levels[levels.Count / 2], levels[^1]]);
        var series = chosen.Where(l => File.Exists(layout.Main(l).MetricsPath) || layout.Main(l).IsFinished).Select(l =>
        {
            var rows = layout.Main(l).ReadMetrics().Where(r => r.Name == "test_accuracy").ToArray();
            return new Series($"level {l}", rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => r.Value).ToArray());
        }).ToArray();
        return new Figure("accuracy_vs_step", "Test accuracy during training", "training step (iterations)", "test accuracy (%)", series)
        {
            YPercent = true, XColumn = "step", YColumn = "test_accuracy",
        };
    }

    /// <summary>
    /// The latest comparison settings (the newest <c>compare_*</c> folder in the current format, in any
    /// replicate), read from every replicate that has them: pooled verdicts need one setting throughout.
    /// </summary>
    private static IReadOnlyList<(int Replicate, Analysis.LevelComparison Comparison)> ComparisonsOfEveryReplicate(string experiment)
    {
        static JsonNode? Comparison(string file) => JsonNode.Parse(File.ReadAllText(file)) is { } json ? json["result"] ?? json : null;
        var replicates = ReplicateFolders(experiment).ToArray();
        var newest = replicates.SelectMany(r => Directory.EnumerateDirectories(r.Folder, "compare_*"))
            .Where(f => Directory.EnumerateFiles(f, "level_*.json").FirstOrDefault() is { } file && Comparison(file)?["networks"] is not null)
            .OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault();
        if (newest is null) return [];
        string name = Path.GetFileName(newest);
        return replicates.Where(r => Directory.Exists(Path.Combine(r.Folder, name)))
            .SelectMany(r => Directory.EnumerateFiles(Path.Combine(r.Folder, name), "level_*.json")
                .Select(f => (r.Replicate, Analysis.LevelComparison.FromJson(Comparison(f)!))))
            .OrderBy(c => c.Item2.Level).ThenBy(c => c.Replicate).ToArray();
    }

    private static ReportSection? ComparisonSection(ExperimentRef experiment, double basinThreshold)
    {
        var all = ComparisonsOfEveryReplicate(experiment.Path);
        if (all.Count == 0) return null;
        var levels = all.GroupBy(c => c.Comparison.Level).OrderBy(g => g.Key).Select(g => g.Select(c => c.Comparison).ToArray()).ToArray();
        // Mean over replicates, with a band from the smallest to the largest.
        Series Line(string pair, string label, Func<Analysis.PairComparison, double?> value)
        {
            var points = levels.Select(l => (X: l[0].Density, Values: l.Select(c => c.Pair(pair) is { } p ? value(p) : null).OfType<double>().Select(DataNumbers.Derived).ToArray()))
                .Where(p => p.Values.Length > 0).ToArray();
            return Series.OverReplicates(label, points);
        }
        var (ticks, tickLabels) = RemainingTicks(levels.Select(l => l[0].Density));
        Figure Make(string name, string title, string y, string column, bool percent, params Series[] series) =>
            new(name, title, "weights remaining (%)", y, series.Where(s => s.X.Count > 0).ToArray())
            {
                LogX = true, ReverseX = true, XTicks = ticks, XTickLabels = tickLabels, XPercent = true, YPercent = percent,
                XColumn = "fraction_remaining", YColumn = column,
            };
        const string tp = Analysis.TicketComparison.TP, rp = Analysis.TicketComparison.RP, tt2 = Analysis.TicketComparison.TT2,
            td = Analysis.TicketComparison.TD, rd = Analysis.TicketComparison.RD;
        static double? Normalized(Analysis.PairComparison p) => p.End.NormalizedL2Distance;
        static double? Angle(Analysis.PairComparison p) => p.End.AngularDistance;
        static double? Rise(Analysis.PairComparison p) => p.Curve.ErrorExcessOverChord;
        var figures = new[]
        {
            Make("angle_vs_remaining", "Angular distance between trained endpoints (same region)", "angular distance", "angular_distance", false,
                Line(tp, "T-P: ticket vs pruning solution", Angle), Line(rp, "R-P: scratch vs pruning solution (control)", Angle),
                Line(tt2, "T-T2: noise floor (two retrains of the ticket)", Angle), Line(tp, "T travel: ticket's end vs its start", p => p.TravelAngleA)),
            Make("distance_vs_remaining", "L2 distance between trained endpoints (surviving weights, / norm of the second)", "normalized L2 distance", "normalized_l2_distance", false,
                Line(tp, "T-P: ticket vs pruning solution", Normalized), Line(rp, "R-P: scratch vs pruning solution", Normalized),
                Line(tt2, "T-T2: noise floor (two retrains of the ticket)", Normalized), Line(td, "T-D: ticket vs dense", Normalized)),
            Make("start_distance_vs_remaining", "L2 distance between starting points (/ norm of the second's end)", "normalized L2 distance", "start_normalized_l2_distance", false,
                Line(tp, "T-P", p => p.Start.L2Distance / p.End.ReferenceNorm), Line(rp, "R-P", p => p.Start.L2Distance / p.End.ReferenceNorm)),
            Make("rise_vs_remaining", "Rise of the test error above the chord (same basin)", "rise above chord (percentage points)", "error_excess_over_chord", true,
                Line(tp, "T-P", Rise), Line(rp, "R-P", Rise), Line(tt2, "T-T2 (noise floor)", Rise), Line(td, "T-D", Rise), Line(rd, "R-D", Rise))
                with { ReferenceLines = [new ReferenceLine($"basin threshold {ExperimentReports.P(basinThreshold)}", basinThreshold)] },
            Make("barrier_vs_remaining", "Error barrier between trained endpoints (at least half their gap)", "error barrier (percentage points)", "error_barrier", true,
                Line(tp, "T-P", p => p.Curve.ErrorBarrier), Line(rp, "R-P", p => p.Curve.ErrorBarrier),
                Line(tt2, "T-T2 (noise floor)", p => p.Curve.ErrorBarrier), Line(td, "T-D", p => p.Curve.ErrorBarrier),
                Line(rd, "R-D", p => p.Curve.ErrorBarrier)),
        };
        var pooled = new ReportTable($"Verdicts per level, pooled over replicates (basin threshold {ExperimentReports.P(basinThreshold)})",
            ["level", "% remaining", "replicates", "same region", "evidence", "same basin", "evidence"],
            levels.Select(l =>
            {
                var region = Analysis.ComparisonVerdicts.SameRegion(l);
                var basin = Analysis.ComparisonVerdicts.SameBasin(l, basinThreshold);
                return (IReadOnlyList<string>)[l[0].Level.ToString(Invariant), (100 * l[0].Density).ToString("F1", Invariant), l.Length.ToString(Invariant),
                    region.Text, region.EvidenceWithWarnings, basin.Text, basin.EvidenceWithWarnings];
            }).ToArray());
        var perReplicate = new ReportTable("Ticket vs pruning solution, per level and replicate",
            ["replicate", "level", "% remaining", "P error before / after fine-tuning", "L2 T-P start -> end", "angle T-P", "angle T-T2", "angle R-P", "T travel (angle)",
             "rise T-P", "rise T-T2", "rise R-P", "barrier T-P", "endpoint gap T-P", "same region", "same basin"],
            all.Select(c =>
            {
                var l = c.Comparison;
                return (IReadOnlyList<string>)[
                    c.Replicate.ToString(Invariant), l.Level.ToString(Invariant), (100 * l.Density).ToString("F1", Invariant),
                    $"{ExperimentReports.P(l.PruningSolutionErrorBefore)} / {ExperimentReports.P(l.PruningSolutionErrorAfter)}",
                    l.Pair(tp) is { } p ? $"{Fmt(p.Start.L2Distance / p.End.ReferenceNorm)} -> {Fmt(p.End.NormalizedL2Distance)}" : "-",
                    Fmt(l.Pair(tp)?.End.AngularDistance), Fmt(l.Pair(tt2)?.End.AngularDistance), Fmt(l.Pair(rp)?.End.AngularDistance), Fmt(l.Pair(tp)?.TravelAngleA),
                    FmtP(l.Pair(tp)?.Curve.ErrorExcessOverChord), FmtP(l.Pair(tt2)?.Curve.ErrorExcessOverChord), FmtP(l.Pair(rp)?.Curve.ErrorExcessOverChord),
                    FmtP(l.Pair(tp)?.Curve.ErrorBarrier), FmtP(l.Pair(tp) is { } e ? Analysis.ComparisonVerdicts.EndpointGap(e) : null),
                    l.SameRegion().Text, l.SameBasin(basinThreshold).Text];
            }).ToArray());
        return new ReportSection("Ticket vs pruning solution", [pooled, perReplicate], figures,
            "T: ticket; P: pruning solution (the previous level's trained network on this level's mask, fine-tuned); R: scratch network (random re-initialization of the mask); "
            + "T2: the ticket retrained with another data order (noise floor); D: dense solution (level 0). Distances over the mask's surviving weights; "
            + "rise above chord: max over the line between trained endpoints of the test error minus the straight line between the endpoint errors; "
            + "barrier: max test error along the line minus the mean of the endpoint errors (Frankle et al. 2020). Bands span the replicates. "
            + $"Same region: {Analysis.ComparisonVerdicts.RegionRule}. Same basin (threshold {ExperimentReports.P(basinThreshold)}; `ticketlab report --basin-threshold`): "
            + $"{Analysis.ComparisonVerdicts.BasinRule}. See docs/analysis.md.");
    }

    private static string Fmt(double? value) => value?.ToString("F3", Invariant) ?? "-";
    private static string FmtP(double? value) => value is { } v ? ExperimentReports.P(v) : "-";

}

/// <summary>The flags of <c>ticketlab lottery</c> beyond those that name the lottery run.</summary>
public sealed record LotteryRunHparams : IHparams
{
    [Hparam("Pruning levels after the dense level 0.")]
    public int Levels { get; init; } = 10;

    public void Validate()
    {
        if (Levels < 0) throw new HparamException("--levels", $"must not be negative, got {Levels}.");
    }
}
