using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;
using TicketLab.Training;

namespace TicketLab.Experiments.LevelAnalyses;

/// <summary>
/// <c>compare</c>: each ticket against the pruning solution it came from, with the scratch control,
/// the noise floor and the dense network (<see cref="TicketComparison"/>; docs/analysis.md). Stored as
/// <c>replicate_N/compare_&lt;hash&gt;/level_L.json</c>, the hash over the non-default interpolation and
/// fine-tuning settings (the basin threshold only changes the verdict).
/// </summary>
public sealed class CompareAnalysis : LevelAnalysis<ComparisonOptions, LevelComparison>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "compare";
    public override string Description => "Does each ticket retrain to the same region / basin as the pruning solution it came from? Distances, barriers, ensembles, with controls and the noise floor.";
    public override int FirstLevel => 1;
    // The lottery report draws comparisons as figures over sparsity with a verdict table (its "Ticket vs pruning solution" section).
    public override bool HasOwnReportSection => false;

    /// <summary>Compares levels of a replicate (or reads their stored comparisons), without a command.</summary>
    public static IReadOnlyList<LevelComparison> Run(LotteryDesc lottery, int replicate, IReadOnlyList<int> levels, ComparisonOptions options, RunOptions runOptions, RunContext context)
    {
        var analysis = new CompareAnalysis();
        var layout = LotteryRunner.Layout(context, lottery, replicate);
        return levels.Select(level => analysis.RunTyped(new LevelAnalysisJob(lottery, replicate, level, layout, runOptions, context), options)).ToArray();
    }

    protected override LevelComparison Analyze(LevelAnalysisJob job, ComparisonOptions hparams) =>
        TicketComparison.CompareLevel(job.Lottery, job.Replicate, job.Level, job.Layout, hparams, job.Options, job.Context);

    private static string P(double value) => value.ToString("P2", Invariant);
    private static string F(double value) => value.ToString("F3", Invariant);

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<LevelComparison>> results, ComparisonOptions hparams)
    {
        var tables = results.Select(r => PairTable(r.Replicate, r.Result)).ToList();
        string rules = $"Same region: {ComparisonVerdicts.RegionRule}. Same basin (threshold {P(hparams.BasinThreshold)}): {ComparisonVerdicts.BasinRule}";
        var byLevel = results.GroupBy(r => r.Level).OrderBy(g => g.Key).ToArray();
        tables.Add(new ReportTable($"Verdicts per level, pooled over replicates. {rules}",
            ["level", "% remaining", "replicates", "Same region", "evidence", "Same basin", "evidence"],
            byLevel.Select(g =>
            {
                var levels = g.Select(r => r.Result).ToArray();
                var region = ComparisonVerdicts.SameRegion(levels);
                var basin = ComparisonVerdicts.SameBasin(levels, hparams.BasinThreshold);
                return (IReadOnlyList<string>)[g.Key.ToString(Invariant), (100 * levels[0].Density).ToString("F1", Invariant), string.Join(",", g.Select(r => r.Replicate)),
                    region.Text, region.EvidenceWithWarnings, basin.Text, basin.EvidenceWithWarnings];
            }).ToArray()));
        if (byLevel.Any(g => g.Count() > 1))
            tables.Add(new ReportTable($"Verdicts per replicate (basin threshold {P(hparams.BasinThreshold)})",
                ["replicate", "level", "% remaining", "Same region", "evidence", "Same basin", "evidence", "P error before / after fine-tuning"],
                results.Select(r => (IReadOnlyList<string>)[
                    r.Replicate.ToString(Invariant), r.Level.ToString(Invariant), (100 * r.Result.Density).ToString("F1", Invariant),
                    r.Result.SameRegion().Text, r.Result.SameRegion().Evidence,
                    r.Result.SameBasin(hparams.BasinThreshold).Text, r.Result.SameBasin(hparams.BasinThreshold).EvidenceWithWarnings,
                    $"{P(r.Result.PruningSolutionErrorBefore)} / {P(r.Result.PruningSolutionErrorAfter)}"]).ToArray()));
        return tables;
    }

    /// <summary>Per level: both verdicts pooled over the replicates, and each replicate's own.</summary>
    protected override JsonNode? Judge(IReadOnlyList<LevelResult<LevelComparison>> results, ComparisonOptions hparams) =>
        new JsonArray(results.GroupBy(r => r.Level).OrderBy(g => g.Key).Select(g =>
        {
            var levels = g.Select(r => r.Result).ToArray();
            return (JsonNode)new JsonObject
            {
                ["level"] = g.Key, ["density"] = levels[0].Density, ["basin_threshold"] = hparams.BasinThreshold,
                ["replicates"] = new JsonArray(g.Select(r => (JsonNode)r.Replicate).ToArray()),
                ["same_region"] = ComparisonVerdicts.SameRegion(levels).ToJson(),
                ["same_basin"] = ComparisonVerdicts.SameBasin(levels, hparams.BasinThreshold).ToJson(),
                ["per_replicate"] = new JsonArray(g.Select(r => (JsonNode)new JsonObject
                {
                    ["replicate"] = r.Replicate,
                    ["same_region"] = r.Result.SameRegion().Text, ["same_basin"] = r.Result.SameBasin(hparams.BasinThreshold).Text,
                }).ToArray()),
            };
        }).ToArray());

    /// <summary>Every pair of a level: distances (over the mask's surviving weights, / the second network's trained norm), agreement, barriers.</summary>
    private static ReportTable PairTable(int replicate, LevelComparison level)
    {
        var rows = level.Pairs.Select(p =>
        {
            double scale = p.End.ReferenceNorm;
            return (IReadOnlyList<string>)[p.Name, F(p.Start.L2Distance / scale), F(p.End.L2Distance / scale), F(p.TravelA / scale), p.TravelAngleA is { } moved ? F(moved) : "-", F(p.End.CosineSimilarity),
                F(p.End.AngularDistance), P(p.End.SignAgreement), P(p.PredictionDisagreement), P(p.EnsembleAccuracy), P(p.AccuracyA), P(p.AccuracyB),
                P(p.Curve.ErrorBarrier), F(p.Curve.LossBarrier), P(p.Curve.ErrorExcessOverChord)];
        }).ToArray();
        return new ReportTable($"replicate {replicate}, level {level.Level} ({100 * level.Density:F1}% of prunable weights remain); L2 / the second network's trained norm, angle 2·acos(cosine)/π",
            ["pair", "L2 start", "L2 end", "A moved", "A moved (angle)", "cosine", "angle", "sign agreement", "disagreement", "ensemble acc", "acc A", "acc B",
             "error barrier", "loss barrier", "rise above chord"], rows);
    }
}
