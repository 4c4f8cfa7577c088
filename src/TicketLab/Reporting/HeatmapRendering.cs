using System.Globalization;
using ScottPlot;

namespace TicketLab.Reporting;

/// <summary>
/// Draws a <see cref="Heatmap"/> figure: one rectangle per cell (sharp in SVG too), its value printed in it
/// in black or white to contrast with the cell's colour, row and column labels at the cell centres, a colour bar.
/// </summary>
internal static class HeatmapRendering
{
    /// <summary>Square figures that give each cell about 34 layout pixels (a 26 x 26 matrix: 1084 pixels), 500 at least.</summary>
    public static int Size(Heatmap heatmap) => Math.Clamp(200 + 34 * Math.Max(heatmap.RowLabels.Count, heatmap.ColumnLabels.Count), 500, 1400);

    public static void Validate(Figure figure, Heatmap heatmap)
    {
        if (figure.Series.Count > 0)
            throw new ArgumentException($"Figure '{figure.Name}': a heatmap has no series.", nameof(figure));
        if (heatmap.Values.Count != heatmap.RowLabels.Count || heatmap.Values.Any(r => r.Count != heatmap.ColumnLabels.Count))
            throw new ArgumentException($"Figure '{figure.Name}': the heatmap needs {heatmap.RowLabels.Count} rows of {heatmap.ColumnLabels.Count} values, one per label.", nameof(figure));
        if (heatmap.Values.Any(r => r.Any(double.IsInfinity)))
            throw new ArgumentException($"Figure '{figure.Name}': heatmap values must be finite (NaN for an empty cell).", nameof(figure));
    }

    public static void Populate(Plot plot, Figure figure, Heatmap heatmap)
    {
        int rows = heatmap.RowLabels.Count, columns = heatmap.ColumnLabels.Count;
        plot.Title(figure.Title);
        // A small matrix makes a narrow figure: shrink a long title to its width rather than cut it.
        float fitting = (Size(heatmap) - 20) / (0.55f * Math.Max(1, figure.Title.Length));
        if (fitting < plot.Axes.Title.Label.FontSize) plot.Axes.Title.Label.FontSize = fitting;
        plot.XLabel(figure.XLabel);
        plot.YLabel(figure.YLabel);
        plot.HideGrid();
        if (rows == 0 || columns == 0) return;
        var data = new double[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) data[r, c] = heatmap.Values[r][c];
        var finite = heatmap.Values.SelectMany(v => v).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double low = finite.Min(), high = finite.Max() > low ? finite.Max() : low + 1;
        var colormap = new ScottPlot.Colormaps.Viridis();
        var map = plot.Add.Heatmap(data);
        map.Colormap = colormap;
        map.ManualRange = new ScottPlot.Range(low, high);
        map.Rectangle = new CoordinateRect(0, columns, 0, rows);
        map.NaNCellColor = Colors.White;
        // Unlabelled: ScottPlot draws a colour bar's label over its tick labels; the title names the value.
        plot.Add.ColorBar(map);

        // Numbers sized to the cells: about a third of a cell's side, between 7 and 14 points.
        float fontSize = (float)Math.Clamp((Size(heatmap) - 200.0) / Math.Max(rows, columns) * 0.3, 7, 14);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                double value = data[r, c];
                if (!double.IsFinite(value)) continue;
                var text = plot.Add.Text(value.ToString(heatmap.CellFormat, CultureInfo.InvariantCulture), c + 0.5, rows - r - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = fontSize;
                // Viridis runs from dark violet to light yellow: white numbers on its darker half.
                text.LabelFontColor = (value - low) / (high - low) < 0.6 ? Colors.White : Colors.Black;
            }

        var bottom = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < columns; c++) bottom.AddMajor(c + 0.5, heatmap.ColumnLabels[c]);
        plot.Axes.Bottom.TickGenerator = bottom;
        var left = new ScottPlot.TickGenerators.NumericManual();
        for (int r = 0; r < rows; r++) left.AddMajor(rows - r - 0.5, heatmap.RowLabels[r]);
        plot.Axes.Left.TickGenerator = left;
        plot.Axes.SetLimits(0, columns, 0, rows);
    }

    /// <summary>The CSV of a heatmap: one row per cell (empty cells left out), the columns named from the axes and the value label.</summary>
    public static IReadOnlyList<string> CsvHeader(Figure figure, Heatmap heatmap)
    {
        string row = Figure.ColumnName(figure.YLabel, "row"), column = Figure.ColumnName(figure.XLabel, "column");
        if (column == row) (row, column) = ("row", "column");
        return [row, column, figure.YColumn ?? Figure.ColumnName(heatmap.ValueLabel, "value")];
    }

    public static IEnumerable<IReadOnlyList<object?>> CsvRows(Heatmap heatmap)
    {
        for (int r = 0; r < heatmap.RowLabels.Count; r++)
            for (int c = 0; c < heatmap.ColumnLabels.Count; c++)
                if (double.IsFinite(heatmap.Values[r][c]))
                    yield return [heatmap.RowLabels[r], heatmap.ColumnLabels[c], heatmap.Values[r][c]];
    }
}
