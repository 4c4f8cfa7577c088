using System.Globalization;
using System.Text;

namespace TicketLab.Store;

public readonly record struct MetricRow(string Name, long Step, double Value);

/// <summary>
/// The metrics of a run as CSV rows <c>name,step,value</c> (step in iterations). Rows are
/// appended and flushed as they come; resuming from a checkpoint keeps exactly the rows logged
/// before it was written, so a resumed run's log equals an uninterrupted one's, row for row.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string Header = "name,step,value";
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

    public static IReadOnlyList<MetricRow> Read(string path)
    {
        var result = new List<MetricRow>();
        int lineNumber = 0;
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
            result.Add(new MetricRow(parts[0], step, value));
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
