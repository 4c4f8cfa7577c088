using System.Globalization;
using System.Text;

namespace TicketLab.Store;

public readonly record struct MetricRow(string Name, long Step, double Value);

/// <summary>
/// The metrics of a run as CSV rows <c>name,step,value</c>, a long format that
/// <c>pd.read_csv(...).pivot(index="step", columns="name", values="value")</c> turns into one row per step.
/// A step counts the iterations done: the metrics at step S describe the network after S iterations
/// (evaluations: <c>test_accuracy</c>, <c>test_loss</c>, with <c>--eval-train</c> <c>train_accuracy</c>,
/// <c>train_loss</c>) or the iterations that led to it (<see cref="TrainLossEpochMean"/> and
/// <see cref="TrainAccuracyEpochMean"/> over the epoch ending at S, <see cref="LearningRate"/> of
/// iteration S-1, the last one before S). Every metric of an evaluation point shares its step.
/// Accuracies are fractions. Values are written as measured, in their shortest round-trip form.
/// Rows are appended and flushed as they come; resuming from a checkpoint keeps exactly the rows logged
/// before it was written, so a resumed run's log equals an uninterrupted one's, row for row.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string Header = "name,step,value";

    /// <summary>The mean training loss over the iterations of the epoch ending at the step (not one batch's loss).</summary>
    public const string TrainLossEpochMean = "train_loss_epoch_mean";
    /// <summary>The fraction of training examples classified right over the iterations of the epoch ending at the step.</summary>
    public const string TrainAccuracyEpochMean = "train_accuracy_epoch_mean";
    /// <summary>The learning rate of the last iteration before the step.</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>Names that earlier logs used, read as today's names.</summary>
    public static IReadOnlyDictionary<string, string> FormerNames { get; } = new Dictionary<string, string>
    {
        ["train_batch_loss"] = TrainLossEpochMean,
        ["train_batch_accuracy"] = TrainAccuracyEpochMean,
    };
    private readonly List<MetricRow> rows = [];
    private StreamWriter? writer;

    public MetricsLog(string path) => Path = path;

    public string Path { get; }
    public IReadOnlyList<MetricRow> Rows => rows;

    /// <summary>Opens the log, keeping only its first <paramref name="keepRows"/> rows (those a checkpoint counted).</summary>
    public void Open(int keepRows)
    {
        rows.Clear();
        if (keepRows > 0 && File.Exists(Path))
        {
            var existing = Read(Path);
            if (existing.Count < keepRows)
                throw new InvalidDataException($"{Path}: holds {existing.Count} rows, but the checkpoint was written after {keepRows}. Delete the checkpoint to restart the run from its beginning.");
            rows.AddRange(existing.Take(keepRows));
        }
        var content = new StringBuilder(Header).Append('\n');
        foreach (var row in rows) content.Append(Format(row)).Append('\n');
        Foundations.AtomicFile.WriteText(Path, content.ToString());
        writer = new StreamWriter(new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    public void Add(string name, long step, double value)
    {
        var row = new MetricRow(name, step, value);
        rows.Add(row);
        if (writer is null) return;
        writer.Write(Format(row));
        writer.Write('\n');
        writer.Flush();
    }

    /// <summary>
    /// Reads a log, in today's names and steps: an earlier log (<see cref="FormerNames"/>)
    /// has its metrics renamed, and its <c>learning_rate</c> rows, which it logged one step early (at
    /// S-1 beside the epoch means at S), moved to the step of the epoch means they were logged with.
    /// </summary>
    public static IReadOnlyList<MetricRow> Read(string path)
    {
        var result = new List<MetricRow>();
        int lineNumber = 0;
        long? formerEpochMeanStep = null;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != 3
                || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                // A torn last line after kill -9 is expected; anything else is reported.
                if (lineNumber == File.ReadLines(path).Count()) break;
                throw new InvalidDataException($"{path}:{lineNumber}: expected 'name,step,value', got '{line}'.");
            }
            string name = parts[0];
            if (FormerNames.TryGetValue(name, out var renamed))
            {
                name = renamed;
                formerEpochMeanStep = step;
            }
            else if (name == LearningRate && formerEpochMeanStep is { } epochEnd)
            {
                if (step == epochEnd - 1) step = epochEnd;
                formerEpochMeanStep = null;
            }
            result.Add(new MetricRow(name, step, value));
        }
        return result;
    }

    private static string Format(MetricRow row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.Name},{row.Step},{row.Value:R}");

    public void Dispose()
    {
        writer?.Dispose();
        writer = null;
    }
}
