using Spectre.Console;
using TicketLab.Reporting;

namespace TicketLab.Cli.Display;

/// <summary>A report table on the console.</summary>
internal static class ReportTableView
{
    public static void Write(Output output, ReportTable table)
    {
        var view = new Table().Title(Markup.Escape(table.Title)).AddColumns(table.Header.Select(Markup.Escape).ToArray());
        foreach (var row in table.Rows) view.AddRow(row.Select(Markup.Escape).ToArray());
        output.Console.Write(view);
    }
}
