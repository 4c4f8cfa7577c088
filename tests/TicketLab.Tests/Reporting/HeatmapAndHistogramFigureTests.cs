using System.Globalization;
using TicketLab.Reporting;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

public sealed class HeatmapAndHistogramFigureTests
{
    /// <summary>A 26 x 26 distance matrix (25 rounds and the initialization), symmetric, zero on the diagonal.</summary>
    public static Figure RoundMatrix(int rounds = 25)
    {
        var labels = Enumerable.Range(0, rounds).Select(l => l.ToString(CultureInfo.InvariantCulture)).Append("init").ToArray();
        double Value(int a, int b) => a == b ? 0 : a == rounds || b == rounds ? 0.5 + 0.02 * Math.Min(a, b) : 0.03 * Math.Abs(a - b);
        var values = labels.Select((_, r) => (IReadOnlyList<double>)labels.Select((_, c) => r == rounds && c == rounds ? double.NaN : Value(r, c)).ToArray()).ToArray();
        return new Figure("angles", "Angular distance between rounds (IMP)", "round", "round", [])
        {
            Heatmap = new Heatmap(labels, labels, values, "angular distance"),
        };
    }

    [Fact]
    public void A_heatmap_writes_a_square_figure_and_one_csv_row_per_filled_cell()
    {
        using var temp = new TempFolder();
        var figure = RoundMatrix();
        var files = FigureRenderer.Write(figure, temp.Path);
        Assert.Equal(files.Width, files.Height);
        Assert.True(files.Width >= 26 * 34, $"width {files.Width}");
        var lines = File.ReadAllLines(files.Csv);
        Assert.Equal("row,column,angular_distance", lines[0]);
        Assert.Equal(26 * 26 - 1, lines.Length - 1); // the init-init cell is empty
        Assert.Contains("3,init,0.56", lines);
        Assert.Contains("<text", File.ReadAllText(files.Svg)); // the numbers are drawn as text
    }

    [Fact]
    public void A_heatmap_refuses_series_and_ragged_rows()
    {
        var figure = RoundMatrix(3);
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { Series = [new Series("a", [1], [1])] }));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { Heatmap = figure.Heatmap! with { Values = figure.Heatmap.Values.Skip(1).ToArray() } }));
    }

    [Fact]
    public void Histogram_outlines_step_at_the_bin_edges_and_close_at_zero()
    {
        var (x, y) = HistogramOutline.Of([0.5, 1.5, 2.5], [2, 5, 1]);
        Assert.Equal([0, 0, 1, 1, 2, 2, 3, 3], x);
        Assert.Equal([0, 2, 2, 5, 5, 1, 1, 0], y);
        using var temp = new TempFolder();
        var figure = new Figure("hist", "Weights", "weight", "count", [new Series("IMP", [0.5, 1.5, 2.5], [2, 5, 1]), new Series("reinit", [0.5, 1.5, 2.5], [1, 1, 1])]) { Steps = true };
        var lines = File.ReadAllLines(FigureRenderer.Write(figure, temp.Path).Csv);
        Assert.Equal(["series,weight,count", "IMP,0.5,2", "IMP,1.5,5", "IMP,2.5,1", "reinit,0.5,1", "reinit,1.5,1", "reinit,2.5,1"], lines);
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { Series = [new Series("a", [0, 1, 3], [1, 1, 1])] }));
    }
}
