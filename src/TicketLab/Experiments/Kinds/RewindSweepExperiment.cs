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

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
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
            rows.Select(r => ExperimentReports.Curve((string)r["step"]!, r["replicates"]![0]!["curve"]!)).ToArray());
        var table = new ReportTable("Barrier per start step (mean, min-max over replicates)", ["start step", "iteration", "error barrier", "min", "max", "endpoint accuracy"],
            rows.Select((r, i) => (IReadOnlyList<string>)[(string)r["step"]!, x[i].ToString(Invariant), ExperimentReports.P((double)r["error_barrier"]!["mean"]!),
                ExperimentReports.P((double)r["error_barrier"]!["min"]!), ExperimentReports.P((double)r["error_barrier"]!["max"]!), ExperimentReports.P((double)r["endpoint_test_accuracy_mean"]!)]).ToArray());
        return new Report($"Rewind sweep {experiment.Name} ({ExperimentReports.Label(experiment)})", ExperimentReports.HyperparameterTables(ExperimentReports.HparamsOf(experiment)),
            [new ReportSection("Stability to SGD noise", [table], [barrierFigure, curves])]);
    }}
