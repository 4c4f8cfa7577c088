using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Experiments.Kinds;

/// <summary>
/// <c>instability_&lt;hash&gt;/replicate_N</c>: two copies trained from one state with different data
/// orders, and the interpolations between them (<c>ticketlab instability</c>).
/// </summary>
public sealed class InstabilityExperiment : ExperimentKind
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public override string Name => "instability";
    public override string Title => "Instability analysis";

    protected override ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder)
    {
        bool done = Directory.EnumerateFiles(folder.Path, "interpolation_*.json").Any();
        var state = done ? ExperimentState.Finished : AnyRunning(folder.Path) ? ExperimentState.Running : ExperimentState.Partial;
        var analysis = ReadObject(Path.Combine(folder.Path, "..", "analysis.json"));
        var recipe = analysis?["training"] ?? analysis?["lottery"];
        return new ListEntry(experiment, Name, replicate, state, state.ToString().ToLowerInvariant(), folder.Path)
        {
            Model = Field(recipe, "model", "model_name"), Dataset = Field(recipe, "dataset", "dataset_name"),
        };
    }

    public override JsonObject? Hyperparameters(ExperimentRef experiment) =>
        ReadObject(Path.Combine(experiment.Path, "analysis.json")) is { } a ? (a["training"] ?? a["lottery"])?.AsObject() : null;

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

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options)
    {
        var results = InstabilityResults(experiment.Path).ToArray();
        var figure = new Figure("error_vs_alpha", "Test error along the line between the two copies", "interpolation coefficient", "test error (%)",
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
