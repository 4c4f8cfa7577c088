using TicketLab.Foundations;
using TicketLab.Reporting;

namespace TicketLab.Experiments;

/// <summary>
/// One number of one replicate, a row of <c>results.csv</c>: the long format that pandas filters and
/// pivots (<c>df[df.metric == "final_test_accuracy"].groupby(["series", "fraction_remaining"]).value.mean()</c>).
/// </summary>
/// <param name="Series">What the number belongs to inside the replicate: <c>ticket</c> or a branch's label
/// (<c>random_reinit</c>, <c>retrain (retrain_lr=0.05)</c>), a compared pair (<c>T-P</c>), <c>copies</c> for
/// an instability analysis, <c>run</c> for a training run.</param>
/// <param name="Metric">snake_case, fractions for accuracies and errors: <c>final_test_accuracy</c>, <c>error_barrier</c>.</param>
public sealed record ResultRow(string Experiment, string Kind, int? Replicate, string Series, string Metric, double Value)
{
    /// <summary>The lottery level (lottery runs, comparisons, analyses of a level).</summary>
    public int? Level { get; init; }

    /// <summary>The fraction of prunable weights the level keeps.</summary>
    public double? FractionRemaining { get; init; }

    /// <summary>The step (in iterations) the two copies of an instability analysis or rewind sweep start from.</summary>
    public long? StartStep { get; init; }
}

/// <summary>
/// <c>results.csv</c>: every result of an experiment, one number a row, in the columns of
/// <see cref="Header"/> (empty where a column does not apply). It holds results (final and best
/// accuracies, barriers, distances), not curves: training curves are in each run's metrics.csv and
/// plotted data in the report's figure CSVs. Numbers follow <see cref="DataNumbers"/>.
/// </summary>
public static class ExperimentResults
{
    public const string FileName = "results.csv";

    public static readonly IReadOnlyList<string> Header =
        ["experiment", "kind", "replicate", "level", "fraction_remaining", "series", "start_step", "metric", "value"];

    /// <summary>Where an experiment's results.csv lives: in its folder, or beside a file-stored one (<c>rewind_sweep_&lt;hash&gt;_results.csv</c>).</summary>
    public static string PathOf(ExperimentRef experiment) => experiment.Kind.StoredAsFile
        ? Path.ChangeExtension(experiment.Path, null) + "_" + FileName
        : Path.Combine(experiment.Path, FileName);

    /// <summary>Writes an experiment's results.csv (atomically: a concurrent reader sees the old or the new file) and returns its path.</summary>
    public static string Write(ExperimentRef experiment)
    {
        string path = PathOf(experiment);
        AtomicFile.WriteText(path, Csv(experiment.Kind.Results(experiment)));
        return path;
    }

    /// <summary>The CSV text of rows; with <paramref name="label"/>, a first column <c>label</c> (a study's name for each experiment).</summary>
    public static string Csv(IEnumerable<ResultRow> rows, Func<ResultRow, string>? label = null)
    {
        var text = new System.Text.StringBuilder();
        IEnumerable<string> header = label is null ? Header : ["label", .. Header];
        text.Append(string.Join(',', header.Select(CsvTable.FormatCell))).Append('\n');
        foreach (var row in rows)
        {
            IEnumerable<object?> cells = [row.Experiment, row.Kind, row.Replicate, row.Level, row.FractionRemaining, row.Series, row.StartStep, row.Metric, row.Value];
            if (label is not null) cells = cells.Prepend(label(row));
            text.Append(string.Join(',', cells.Select(CsvTable.FormatCell))).Append('\n');
        }
        return text.ToString();
    }
}
