using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>instability_&lt;hash&gt;/replicate_N</c>: two copies trained from one state with different data
/// orders, and the interpolations between them (<c>ticketlab instability</c>).
/// </summary>
public sealed class InstabilityExperiment : ExperimentKind<InstabilityHparams>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "instability";
    public override string Title => "Instability analysis";
    public override string? CommandDescription => "Instability analysis: train two copies from one state with different data orders and measure the error barrier between them.";
    // The lottery run's flags name the run whose level (--level) the copies may start from.
    public override CommandInputs Inputs => CommandInputs.LotteryRun;

    private static InstabilityStart StartOf(ExperimentInputs inputs, InstabilityHparams hparams) => hparams.Level is { } level
        ? InstabilityStart.FromLottery(inputs.LotteryRun, level)
        : InstabilityStart.FromTraining(inputs.Training, hparams.StartStep);

    protected override string EntryName(ExperimentInputs inputs, InstabilityHparams hparams) => StartOf(inputs, hparams).RunName;

    protected override ExperimentOutcome Run(ExperimentRequest request, InstabilityHparams hparams)
    {
        var start = StartOf(request.Inputs, hparams);
        request.Log.WriteLine($"Instability analysis {start.RunName} from {start.Describe}.");
        var results = request.Inputs.Replicates
            .Select(r => request.Progress.Track(request.Context, c => InstabilityAnalysis.Run(start, r, hparams.Interpolation, request.Options, c)))
            .ToArray();
        var row = new SweepRow(start.Step, results);
        return SweepOutcome(start.RunName, [row], $"Instability from {start.Describe}", hparams.StabilityThreshold) with { Json = row.ToJson() };
    }

    private static string P(double value) => value.ToString("P2", Invariant);
    private static string F(double value) => value.ToString("F3", Invariant);

    /// <summary>The table and lines <c>instability</c> and <c>rewind-sweep</c> end with: the barrier per start step, each pair's numbers, and warnings where the endpoints differ.</summary>
    internal static ExperimentOutcome SweepOutcome(string entry, IReadOnlyList<SweepRow> rows, string title, double threshold)
    {
        var table = new ReportTable(title, ["start step", "error barrier mean [min-max]", "rise above chord (mean)",
            "endpoint test acc (mean)", "largest endpoint gap", "loss barrier (mean)", $"stable (barrier < {P(threshold)})", "replicates"],
            rows.Select(row => (IReadOnlyList<string>)[row.Step.ToString(), $"{P(row.MeanErrorBarrier)} [{P(row.MinErrorBarrier)}-{P(row.MaxErrorBarrier)}]",
                P(row.MeanErrorExcessOverChord), P(row.MeanEndpointAccuracy), P(row.MaxEndpointGap), F(row.MeanLossBarrier),
                row.IsStable(threshold) ? "yes" : "no", row.Results.Count.ToString(Invariant)]).ToArray());
        var notes = new List<string>
        {
            $"Error barrier: max test error along the line between the two copies minus the mean of their errors (Frankle et al. 2020); stable when under {P(threshold)}.",
            "Rise above chord: max of the error above the straight line between the two endpoint errors.",
        };
        foreach (var row in rows)
            foreach (var r in row.Results)
                notes.Add($"  start {row.Step}, replicate {r.Replicate}: error barrier {P(r.Curve.ErrorBarrier)}, endpoint errors {P(1 - r.AccuracyA)} and {P(1 - r.AccuracyB)}, "
                    + $"rise above chord {P(r.Curve.ErrorExcessOverChord)}, loss barrier {F(r.Curve.LossBarrier)}");
        // Endpoints of different quality make a "barrier" on a path that never rises: say so.
        foreach (var row in rows)
            foreach (var r in row.Results.Where(r => Math.Abs(r.AccuracyA - r.AccuracyB) > threshold))
                notes.Add($"warning: start {row.Step}, replicate {r.Replicate}: the copies' test accuracies differ by {P(Math.Abs(r.AccuracyA - r.AccuracyB))} "
                    + $"({P(r.AccuracyA)} and {P(r.AccuracyB)}), more than the threshold; the barrier {P(r.Curve.ErrorBarrier)} partly measures that gap (rise above chord: {P(r.Curve.ErrorExcessOverChord)}).");
        return new ExperimentOutcome(entry) { Tables = [table], Notes = notes };
    }

    protected override ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder)
    {
        bool done = Directory.EnumerateFiles(folder.Path, "interpolation_*.json").Any();
        // A copy (or the parent) that diverged ends the analysis for good: that is its state, not "partial".
        var diverged = done ? null : new[] { "parent", "copy_a", "copy_b" }.Select(c => new RunFolder(Path.Combine(folder.Path, c)))
            .FirstOrDefault(r => r.IsFinished && r.State == RunState.Diverged);
        var state = done ? ExperimentState.Finished : diverged is not null ? ExperimentState.Diverged
            : AnyRunning(folder.Path) ? ExperimentState.Running : ExperimentState.Partial;
        string detail = diverged is null ? state.ToString().ToLowerInvariant() : $"diverged ({Path.GetFileName(diverged.Path)})";
        var analysis = ReadObject(Path.Combine(folder.Path, "..", "analysis.json"));
        var recipe = analysis?["training"] ?? analysis?["lottery"];
        return new ListEntry(experiment, Name, replicate, state, detail, folder.Path)
        {
            Model = Field(recipe, "model", "model_name"), Dataset = Field(recipe, "dataset", "dataset_name"),
        };
    }

    public override JsonObject? Hyperparameters(ExperimentRef experiment) =>
        ReadObject(Path.Combine(experiment.Path, "analysis.json")) is { } a ? (a["training"] ?? a["lottery"])?.AsObject() : null;

    /// <summary>The analysis: where the copies start (a training run's step, or a lottery level) and the recipe.</summary>
    public override JsonObject? Settings(ExperimentRef experiment) => ReadObject(Path.Combine(experiment.Path, "analysis.json"));

    private static IEnumerable<(int Replicate, JsonObject Result)> InstabilityResults(string experimentFolder) =>
        Directory.EnumerateDirectories(experimentFolder, "replicate_*").Order()
            // Several grids may be stored (other --points, --bn-recalibrate...): show the most recent one.
            .SelectMany(d => Directory.EnumerateFiles(d, "interpolation_*.json").OrderByDescending(File.GetLastWriteTimeUtc).Take(1))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())
            .Select(j => ((int)j["replicate"]!, j));

    /// <summary>
    /// Per replicate (series <c>copies</c>): <c>error_barrier</c>, <c>error_excess_over_chord</c>,
    /// <c>loss_barrier</c>, <c>endpoint_a_test_accuracy</c>, <c>endpoint_b_test_accuracy</c>; with the
    /// lottery level, or the start step in iterations, the copies start from.
    /// </summary>
    public override IEnumerable<ResultRow> Results(ExperimentRef experiment)
    {
        var analysis = ReadObject(Path.Combine(experiment.Path, "analysis.json"));
        int? level = analysis?["level"] is JsonValue l ? (int)l : null;
        foreach (var (replicate, result) in InstabilityResults(experiment.Path))
        {
            long? start = null;
            if (analysis?["start_step"] is JsonValue text && Foundations.StepSpec.TryParse((string?)text, out var spec)
                && TicketLab.Training.TrainingSummary.Read(new RunFolder(Path.Combine((string?)result["folder"] ?? "", "copy_a"))) is { } summary)
                start = spec.ToStep(summary.IterationsPerEpoch).Iteration;
            foreach (var row in CopiesResults(experiment.Name, Name, replicate, result))
                yield return row with { Level = level, StartStep = start };
        }
    }

    /// <summary>The results of one pair of copies, from its stored interpolation (barriers are derived values, see <see cref="Foundations.DataNumbers"/>).</summary>
    internal static IEnumerable<ResultRow> CopiesResults(string experiment, string kind, int replicate, JsonNode result)
    {
        ResultRow Row(string metric, double value) => new(experiment, kind, replicate, "copies", metric, value);
        var curve = result["curve"]!;
        foreach (var key in new[] { "error_barrier", "error_excess_over_chord", "loss_barrier" })
            if (curve[key] is JsonValue v) yield return Row(key, Foundations.DataNumbers.Derived((double)v));
        foreach (var key in new[] { "endpoint_a_test_accuracy", "endpoint_b_test_accuracy" })
            if (result[key] is JsonValue v) yield return Row(key, (double)v);
    }

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var results = InstabilityResults(experiment.Path).ToArray();
        var figure = ExperimentReports.InterpolationFigure("error_vs_alpha", "Test error along the line between the two copies",
            results.Select(r => ExperimentReports.Curve($"replicate {r.Replicate}", r.Result["curve"]!)).ToArray());
        static string Grid(JsonNode? interpolation) => interpolation is null ? "-"
            : $"{interpolation["points"]} points, BN statistics " + ((int?)interpolation["bn_recalibration_batches"] is > 0 and var n ? $"recalibrated on {n} batches" : "interpolated");
        var table = new ReportTable("Barriers", ["replicate", "error barrier", "rise above chord", "loss barrier", "copy A test accuracy", "copy B test accuracy", "interpolation"],
            results.Select(r => (IReadOnlyList<string>)[r.Replicate.ToString(Invariant), ExperimentReports.P((double)r.Result["curve"]!["error_barrier"]!),
                ExperimentReports.P((double)r.Result["curve"]!["error_excess_over_chord"]!), ((double)r.Result["curve"]!["loss_barrier"]!).ToString("F4", Invariant),
                ExperimentReports.P((double)r.Result["endpoint_a_test_accuracy"]!), ExperimentReports.P((double)r.Result["endpoint_b_test_accuracy"]!), Grid(r.Result["interpolation"])]).ToArray());
        return new Report($"Instability analysis {experiment.Name}", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)),
            [new ReportSection("Linear mode connectivity", [table], [figure],
                "Error barrier: the largest test error along the line minus the mean of the two endpoints' errors (Frankle et al. 2020); stable to SGD noise under 2 points. "
                + "Rise above chord: the largest rise of the error above the straight line between the endpoint errors. See docs/analysis.md.")]);
    }

}

/// <summary>The flags of <c>ticketlab instability</c>: where the copies start, how they are interpolated, and the verdict's threshold.</summary>
public sealed record InstabilityHparams : IHparams
{
    [Hparam("Start from the state at this step of the training run (0it: initialization).")]
    public StepSpec StartStep { get; init; } = new(0, 0);

    [Hparam("Start from this level's rewound subnetwork of the lottery run given by the same flags (instead of --start-step).")]
    public int? Level { get; init; }

    [HparamGroup("", "interpolation between the copies")]
    public InterpolationOptions Interpolation { get; init; } = new();

    /// <summary>Only the verdict depends on it: never part of a name.</summary>
    [Hparam("Error barrier (as a fraction) under which training counts as stable to SGD noise (Frankle et al. 2020: 0.02).")]
    public double StabilityThreshold { get; init; } = InterpolationCurve.StabilityThreshold;

    public void Validate()
    {
        Interpolation.Validate();
        if (Level is < 0) throw new HparamException("--level", $"must not be negative, got {Level}.");
        InterpolationCurve.RequireThreshold(StabilityThreshold, "--stability-threshold");
    }
}
