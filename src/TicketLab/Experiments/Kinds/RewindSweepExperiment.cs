using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>rewind_sweep_&lt;hash&gt;.json</c>: the error barrier per start step over replicates
/// (<c>ticketlab rewind-sweep</c>); its copies live in instability experiments.
/// </summary>
public sealed class RewindSweepExperiment : ExperimentKind<RewindSweepHparams>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "rewind_sweep";
    public override string Title => "Rewind sweep";
    public override bool StoredAsFile => true;
    public override string? CommandDescription => "Error barrier vs the step the two copies start from: when training becomes stable to SGD noise.";
    public override ReplicateFlags ReplicateFlags => ReplicateFlags.InRecord;

    protected override string EntryName(ExperimentInputs inputs, RewindSweepHparams hparams) =>
        RewindSweep.FileName(inputs.Training, hparams.Steps, hparams.Replicates, hparams.Interpolation);

    protected override ExperimentOutcome Run(ExperimentRequest request, RewindSweepHparams hparams)
    {
        var desc = request.Inputs.Training;
        request.Log.WriteLine($"Rewind sweep of {desc.RunName} over {string.Join(", ", hparams.Steps)} with {hparams.Replicates} replicate(s).");
        var rows = request.Progress.Track(request.Context,
            c => RewindSweep.Run(desc, hparams.Steps, Enumerable.Range(1, hparams.Replicates).ToArray(), hparams.Interpolation, request.Options, c));
        var json = new JsonObject
        {
            ["training_run"] = desc.RunName, ["training"] = desc.ToJson(), ["interpolation"] = hparams.Interpolation.ToJson(),
            ["rows"] = new JsonArray(rows.Select(r => (JsonNode)r.ToJson()).ToArray()),
        };
        string entry = EntryName(request.Inputs, hparams);
        string sweepFile = System.IO.Path.Combine(request.Context.Store.Root, entry);
        AtomicFile.WriteJson(sweepFile, json);
        // A sweep stored under the earlier name (the full interpolation settings) is the same sweep: one file, under the current name.
        string legacy = System.IO.Path.Combine(request.Context.Store.Root, RewindSweep.LegacyFileName(desc, hparams.Steps, hparams.Replicates, hparams.Interpolation));
        if (legacy != sweepFile && File.Exists(legacy)) File.Delete(legacy);
        return InstabilityExperiment.SweepOutcome(entry, rows, $"Rewind sweep of {desc.RunName} (saved as {sweepFile})", hparams.StabilityThreshold) with { Json = json };
    }

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

/// <summary>The flags of <c>ticketlab rewind-sweep</c>: the start steps, the replicates, the interpolation and the verdict's threshold.</summary>
public sealed record RewindSweepHparams : IHparams
{
    [Hparam("Start steps, e.g. 0it,100it,500it,1ep,2ep,5ep,10ep.")]
    public StepSpec[] Steps { get; init; } = [new(0, 0), new(0, 100), new(0, 500), new(1, 0), new(2, 0), new(5, 0), new(10, 0)];

    [Hparam("Seed pairs (and initializations) per step.")]
    public int Replicates { get; init; } = 1;

    [HparamGroup("", "interpolation between the copies")]
    public InterpolationOptions Interpolation { get; init; } = new();

    [Hparam("Error barrier (as a fraction) under which training counts as stable to SGD noise (Frankle et al. 2020: 0.02).")]
    public double StabilityThreshold { get; init; } = InterpolationCurve.StabilityThreshold;

    public void Validate()
    {
        if (Steps.Length == 0) throw new HparamException("--steps", "give at least one start step, e.g. 0it,1ep.");
        if (Replicates < 1) throw new HparamException("--replicates", $"must be at least 1, got {Replicates}.");
        Interpolation.Validate();
        InterpolationCurve.RequireThreshold(StabilityThreshold, "--stability-threshold");
    }
}
