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
        foreach (var name in series) view.AddColumn($"{ShortName(name, series)} final (best)");
        foreach (var row in table.Rows)
        {
            var cells = new List<string> { row.Level.ToString(CultureInfo.InvariantCulture), row.PercentRemaining.ToString("F1", CultureInfo.InvariantCulture) };
            foreach (var name in series)
            {
                var result = row.Series.GetValueOrDefault(name);
                cells.Add(result is null ? "-" : $"{Format(result.Final)} ({Format(result.Best)})");
            }
            view.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        output.Console.Write(view);
        if (table.Dense is { } dense)
            output.Human.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Dense (level 0) final test accuracy: {dense.Final.Mean:P2}; tickets match it (within 0.5 points) up to level {table.MatchesDenseUpTo()?.ToString(CultureInfo.InvariantCulture) ?? "-"}."));
    }

    /// <summary>A branch's name without its hash, unless two variants of the branch are shown.</summary>
    private static string ShortName(string series, IReadOnlyList<string> all)
    {
        int cut = series.LastIndexOf('_');
        if (cut < 0 || series.Length - cut != 9) return series;
        string name = series[..cut];
        return all.Count(s => s.StartsWith(name + "_", StringComparison.Ordinal) && s.Length == series.Length) == 1 ? name : series;
    }

    private static string Format(Aggregate? value) => value switch
    {
        null => "-",
        { Count: 1 } => value.Mean.ToString("P2", CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.Mean:P2} ({value.Min:P1}-{value.Max:P1})"),
    };
}
