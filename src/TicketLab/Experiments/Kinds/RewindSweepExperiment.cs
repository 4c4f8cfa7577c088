using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>rewind_sweep_&lt;hash&gt;.json</c>: the error barrier per start step over replicates
/// (<c>ticketlab rewind-sweep</c>); its copies live in instability experiments.
/// </summary>
public sealed class RewindSweepExperiment : ExperimentKind
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "rewind_sweep";
    public override string Title => "Rewind sweep";
    public override bool StoredAsFile => true;

    protected override ListEntry ListFile(string experiment, string path)
    {
        var sweep = ReadObject(path);
        var recipe = sweep?["training"];
        int steps = sweep?["rows"] is JsonArray rows ? rows.Count : 0;
        return new ListEntry(experiment, Name, null, ExperimentState.Finished, $"finished ({steps} start steps)", path)
        {
            Model = Field(recipe, "model", "model_name"), Dataset = Field(recipe, "dataset", "dataset_name"),
        };
    }

    /// <summary>A sweep's recipe: stored in the sweep file, else read from its first copy's run.</summary>
    public override JsonObject? Hyperparameters(ExperimentRef experiment)
    {
        var sweep = JsonNode.Parse(File.ReadAllText(experiment.Path));
        if (sweep?["training"] is JsonObject training) return training;
        string? folder = (string?)sweep?["rows"]?[0]?["replicates"]?[0]?["folder"];
        return folder is null ? null : new RunFolder(System.IO.Path.Combine(folder, "copy_a")).ReadHparams();
    }

    /// <summary>The recipe, the interpolation, the start steps and the number of replicates.</summary>
    public override JsonObject? Settings(ExperimentRef experiment)
    {
        if (ReadObject(experiment.Path) is not { } sweep) return null;
        var rows = sweep["rows"] as JsonArray ?? [];
        return new JsonObject
        {
            ["training"] = Hyperparameters(experiment)?.DeepClone(),
            ["interpolation"] = sweep["interpolation"]?.DeepClone(),
            ["steps"] = new JsonArray(rows.Select(r => (JsonNode?)JsonValue.Create((string?)r?["step"])).ToArray()),
            ["replicates"] = rows.Select(r => (r?["replicates"] as JsonArray)?.Count ?? 0).DefaultIfEmpty(0).Max(),
        };
    }

    /// <summary>The sweep's rows with each start step in iterations (read from the copies' epoch length).</summary>
    private static IReadOnlyList<(JsonObject Row, string Step, long Iteration)> Rows(ExperimentRef experiment)
    {
        var sweep = JsonNode.Parse(File.ReadAllText(experiment.Path))!;
        return sweep["rows"]!.AsArray().Select(r => r!.AsObject()).Select(row =>
        {
            string text = (string)row["step"]!;
            var step = StepSpec.Parse(text);
            string folder = (string)row["replicates"]![0]!["folder"]!;
            int perEpoch = TrainingSummary.Read(new RunFolder(System.IO.Path.Combine(folder, "copy_a")))?.IterationsPerEpoch ?? 1;
            return (row, text, step.ToStep(perEpoch).Iteration);
        }).ToArray();
    }

    /// <summary>Per start step and replicate: the results of the pair of copies (as an instability analysis has them), with the start step in iterations.</summary>
    public override IEnumerable<ResultRow> Results(ExperimentRef experiment) =>
        Rows(experiment).SelectMany(r => r.Row["replicates"]!.AsArray().SelectMany(replicate =>
            InstabilityExperiment.CopiesResults(experiment.Name, Name, (int)replicate!["replicate"]!, replicate)
                .Select(row => row with { StartStep = r.Iteration })));

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var rows = Rows(experiment);
        var x = rows.Select(r => (double)r.Iteration).ToArray();
        static double Barrier(JsonObject row, string key) => DataNumbers.Derived((double)row["error_barrier"]![key]!);
        var barrier = new Series("error barrier", x, rows.Select(r => Barrier(r.Row, "mean")).ToArray(),
            rows.Select(r => Barrier(r.Row, "min")).ToArray(), rows.Select(r => Barrier(r.Row, "max")).ToArray())
        {
            Replicates = rows.Select(r => r.Row["replicates"]!.AsArray().Count).ToArray(),
        };
        // Start steps run from 0 to many epochs: a log-like axis that places 0, ticks named as the steps were given.
        var barrierFigure = new Figure("barrier_vs_step", "Error barrier vs the step the copies start from", "start step", "error barrier (percentage points)", [barrier])
        {
            SymLogX = true, XTicks = x, XTickLabels = rows.Select(r => r.Step).ToArray(), YPercent = true,
            XColumn = "start_step", YColumn = "error_barrier",
            ReferenceLines = [new ReferenceLine("stability threshold (2 points)", TicketLab.Analysis.InterpolationCurve.StabilityThreshold)],
        };
        var curves = ExperimentReports.InterpolationFigure("error_vs_alpha", "Test error along the line between the copies, per start step (replicate 1)",
            rows.Select(r => ExperimentReports.Curve($"start {r.Step}", r.Row["replicates"]![0]!["curve"]!)).ToArray());
        var table = new ReportTable("Barrier per start step (mean, min-max over replicates)", ["start step", "iteration", "error barrier", "min", "max", "endpoint accuracy"],
            rows.Select(r => (IReadOnlyList<string>)[r.Step, r.Iteration.ToString(Invariant), ExperimentReports.P(Barrier(r.Row, "mean")),
                ExperimentReports.P(Barrier(r.Row, "min")), ExperimentReports.P(Barrier(r.Row, "max")), ExperimentReports.P((double)r.Row["endpoint_test_accuracy_mean"]!)]).ToArray());
        return new Report($"Rewind sweep {experiment.Name} ({ExperimentReports.Label(experiment)})", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)),
            [new ReportSection("Stability to SGD noise", [table], [barrierFigure, curves])]);
    }
}
