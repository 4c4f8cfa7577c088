using System.Globalization;
using Spectre.Console;
using TicketLab.Lottery;

namespace TicketLab.Cli.Display;

/// <summary>The lottery summary table: level, % remaining, final/best test accuracy per series, dense reference.</summary>
internal static class LotteryTableView
{
    public static void Write(Output output, LotteryTable table)
    {
        var series = table.SeriesNames;
        var view = new Table().Title($"{table.RunName} ({table.Replicates.Count} replicate(s); test accuracy, mean over replicates)");
        view.AddColumn("level").AddColumn("% weights remaining");
        foreach (var name in series) view.AddColumn(Markup.Escape($"{ShortName(name, series)}: final [min-max]; best (%)"));
        foreach (var row in table.Rows)
        {
            var cells = new List<string> { row.Level.ToString(CultureInfo.InvariantCulture), (100 * row.FractionRemaining).ToString("F1", CultureInfo.InvariantCulture) };
            foreach (var name in series)
            {
                var result = row.Series.GetValueOrDefault(name);
                cells.Add(result is null ? "-" : Format(result));
            }
            view.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        output.Console.Write(view);
        if (table.Dense is { Final: { } dense })
            output.Human.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Dense (level 0) final test accuracy: {dense.Mean:P2}; tickets match it (within 0.5 points) up to level {table.MatchesDenseUpTo()?.ToString(CultureInfo.InvariantCulture) ?? "-"}."));
    }

    /// <summary>A branch's name without its hash, unless two variants of the branch are shown.</summary>
    private static string ShortName(string series, IReadOnlyList<string> all)
    {
        int cut = series.LastIndexOf('_');
        if (cut < 0 || series.Length - cut != 9) return series;
        string name = series[..cut];
        return all.Count(s => s.StartsWith(name + "_", StringComparison.Ordinal) && s.Length == series.Length) == 1 ? name : series;
    }

    /// <summary>"88.12 [87.90-88.34]; 88.50", with "diverged" for replicates whose loss stopped being finite.</summary>
    private static string Format(SeriesResult result)
    {
        if (result.Final is not { } final) return result.DivergedNote;
        string text = string.Create(CultureInfo.InvariantCulture, $"{Format(final)}; {result.Best!.Mean * 100:F2}");
        return result.Diverged == 0 ? text : $"{text} ({result.DivergedNote})";
    }

    private static string Format(Aggregate value) => value.Count == 1
        ? (100 * value.Mean).ToString("F2", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{100 * value.Mean:F2} [{100 * value.Min:F2}-{100 * value.Max:F2}]");
}
