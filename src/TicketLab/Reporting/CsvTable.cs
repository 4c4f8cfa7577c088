using System.Globalization;
using System.Text;

namespace TicketLab.Reporting;

/// <summary>
/// Writes plain CSV (RFC 4180 quoting, '\n' line ends, UTF-8 without BOM). Numbers use the invariant culture;
/// doubles and floats use the round-trip ("R") format so that parsing them back gives the same value.
/// </summary>
public static class CsvTable
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        if (header.Count == 0) throw new ArgumentException("A CSV table needs at least one column.", nameof(header));

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);

        var text = new StringBuilder();
        AppendRow(text, header.Cast<object?>().ToList());
        int index = 0;
        foreach (var row in rows)
        {
            if (row is null || row.Count != header.Count)
                throw new ArgumentException(
                    $"CSV row {index} has {row?.Count ?? 0} cells but the header has {header.Count} columns.", nameof(rows));
            AppendRow(text, row);
            index++;
        }
        File.WriteAllText(path, text.ToString(), Utf8NoBom);
    }

    /// <summary>The CSV text of one cell value (already quoted when needed).</summary>
    public static string FormatCell(object? value) => Quote(FormatValue(value));

    private static void AppendRow(StringBuilder text, IReadOnlyList<object?> row)
    {
        for (int i = 0; i < row.Count; i++)
        {
            if (i > 0) text.Append(',');
            text.Append(FormatCell(row[i]));
        }
        text.Append('\n');
    }

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") < 0 ? cell : "\"" + cell.Replace("\"", "\"\"") + "\"";
}
