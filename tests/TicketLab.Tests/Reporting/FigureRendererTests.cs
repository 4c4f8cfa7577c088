using System.Globalization;
using System.Xml.Linq;
using TicketLab.Reporting;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

public sealed class FigureRendererTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Write_CreatesPngSvgAndCsv()
    {
        using var temp = new TempFolder();
        var files = FigureRenderer.Write(ReportingSamples.Accuracy(), temp.Path);

        Assert.Equal(temp.Combine("accuracy.png"), files.Png);
        Assert.Equal(temp.Combine("accuracy.svg"), files.Svg);
        Assert.Equal(temp.Combine("accuracy.csv"), files.Csv);
        AssertPng(files.Png);
        AssertSvg(files.Svg);
    }

    [Fact]
    public void Csv_HoldsExactlyTheFigureData_InNamedColumns()
    {
        using var temp = new TempFolder();
        foreach (var (figure, header) in new[]
        {
            (ReportingSamples.Accuracy(), "series,percent_of_weights_remaining,test_accuracy,test_accuracy_min,test_accuracy_max"),
            (ReportingSamples.Loss(), "series,iteration,cross_entropy_loss"),
        })
        {
            var files = FigureRenderer.Write(figure, temp.Path);
            var lines = File.ReadAllLines(files.Csv);
            Assert.Equal(header, lines[0]);

            int expectedRows = figure.Series.Sum(s => s.X.Count) + figure.ReferenceLines.Count;
            Assert.Equal(expectedRows, lines.Length - 1);

            int row = 1;
            bool bands = figure.Series.Any(s => s.Low is not null);
            foreach (var s in figure.Series)
                for (int i = 0; i < s.X.Count; i++, row++)
                {
                    string[] cells = lines[row].Split(',');
                    Assert.Equal(s.Label, cells[0]);
                    Assert.Equal(s.X[i], double.Parse(cells[1], CultureInfo.InvariantCulture));
                    Assert.Equal(s.Y[i], double.Parse(cells[2], CultureInfo.InvariantCulture));
                    if (!bands) Assert.Equal(3, cells.Length);
                    else if (s.Low is null) Assert.Equal(["", ""], cells[3..]);
                    else
                    {
                        Assert.Equal(s.Low[i], double.Parse(cells[3], CultureInfo.InvariantCulture));
                        Assert.Equal(s.High![i], double.Parse(cells[4], CultureInfo.InvariantCulture));
                    }
                }
            foreach (var r in figure.ReferenceLines)
            {
                string[] cells = lines[row++].Split(',');
                Assert.Equal(r.Label, cells[0]);
                Assert.Equal("", cells[1]);
                Assert.Equal(r.Y, double.Parse(cells[2], CultureInfo.InvariantCulture));
            }
        }
    }

    [Theory]
    [InlineData("weights remaining (%)", "weights_remaining")]
    [InlineData("test accuracy (%)", "test_accuracy")]
    [InlineData("error barrier (percentage points)", "error_barrier")]
    [InlineData("normalized L2 distance", "normalized_l2_distance")]
    [InlineData("cross-entropy loss", "cross_entropy_loss")]
    [InlineData("(%)", "y")]
    public void Column_names_come_from_axis_labels(string label, string column) => Assert.Equal(column, Figure.ColumnName(label, "y"));

    [Fact]
    public void Percent_axes_draw_fractions_in_percent_while_the_csv_keeps_the_fractions()
    {
        var figure = new Figure("fractions", "Accuracy", "weights remaining (%)", "test accuracy (%)",
            [new Series("ticket", [1, 0.8, 0.64], [0.9812, 0.9825, 0.98], Low: [0.98, 0.982, 0.979], High: [0.9824, 0.983, 0.981]) { Replicates = [2, 2, 2] }])
        {
            LogX = true, ReverseX = true, XPercent = true, YPercent = true, XTicks = [1, 0.8, 0.64], XColumn = "fraction_remaining", YColumn = "final_test_accuracy",
            ReferenceLines = [new ReferenceLine("dense", 0.9812)],
        };
        using (var plot = FigureRenderer.BuildPlot(figure))
        {
            var limits = plot.Axes.GetLimits();
            Assert.True(limits.Bottom < 97.9 && limits.Top > 98.3, $"y in percent: {limits}");
            Assert.True(limits.Left >= 2 && limits.Right <= Math.Log10(64), $"x at log10 of the percent: {limits}");
            using (plot.GetImage(FigureRenderer.Width, FigureRenderer.Height)) { }
            Assert.Equal(["64", "80", "100"], plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label));
        }
        using var temp = new TempFolder();
        var lines = File.ReadAllLines(FigureRenderer.Write(figure, temp.Path).Csv);
        Assert.Equal("series,fraction_remaining,final_test_accuracy,final_test_accuracy_min,final_test_accuracy_max,replicates", lines[0]);
        Assert.Equal("ticket,0.8,0.9825,0.982,0.983,2", lines[2]);
        Assert.Equal("dense,,0.9812,,,", lines[^1]);
    }

    [Fact]
    public void LogAndReversedAxis_RendersWithRequestedTicks()
    {
        var figure = ReportingSamples.Accuracy();
        using (var plot = FigureRenderer.BuildPlot(figure))
        {
            var limits = plot.Axes.GetLimits();
            Assert.True(limits.Left > limits.Right, $"x axis should decrease left to right: {limits}");
            Assert.True(limits.Left >= Math.Log10(100) && limits.Right <= Math.Log10(1.8), $"log10 limits should cover the data: {limits}");

            using (plot.GetImage(FigureRenderer.Width, FigureRenderer.Height)) { } // ticks exist once rendered
            var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).OrderByDescending(t => t.Position).ToList();
            Assert.Equal(["100", "51.2", "26.2", "13.4", "6.9", "3.6", "1.8"], ticks.Select(t => t.Label));
            Assert.Equal(ReportingSamples.Remaining.Select(Math.Log10), ticks.Select(t => t.Position));

            Assert.True(limits.Bottom <= 89.7 && limits.Top >= 98.9, $"y axis should cover the data and the band: {limits}");
        }

        using var temp = new TempFolder();
        var files = FigureRenderer.Write(figure, temp.Path);
        AssertPng(files.Png);
        AssertSvg(files.Svg);
    }

    [Fact]
    public void LogAxisWithoutTicks_UsesDecades()
    {
        var figure = new Figure("decades", "Loss", "Iteration", "Loss",
            [new Series("a", [3, 30, 300, 3000], [1, 0.5, 0.2, 0.1])]) { LogX = true };
        using var plot = FigureRenderer.BuildPlot(figure);
        using (plot.GetImage(FigureRenderer.Width, FigureRenderer.Height)) { }
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.Equal(["1", "10", "100", "1000", "10000"], ticks);
        var limits = plot.Axes.GetLimits();
        Assert.True(limits.Left < limits.Right);
    }

    [Fact]
    public void ReversedLinearAxis_WithoutTicks()
    {
        var figure = ReportingSamples.Loss() with { Name = "reversed" };
        figure = figure with { ReverseX = true };
        using var plot = FigureRenderer.BuildPlot(figure);
        var limits = plot.Axes.GetLimits();
        Assert.True(limits.Left > limits.Right);
        Assert.True(limits.Left >= 59 * 250.0 && limits.Right <= 0);
    }

    [Fact]
    public void FigureWithoutData_StillRenders()
    {
        using var temp = new TempFolder();
        var files = FigureRenderer.Write(new Figure("empty", "No runs yet", "x", "y", []) { ReverseX = true }, temp.Path);
        Assert.Equal(PngSignature, File.ReadAllBytes(files.Png)[..8]);
        Assert.Equal(["series,x,y"], File.ReadAllLines(files.Csv));
    }

    /// <summary>The texts the legend shows: the plottables' items, then the manual ones.</summary>
    private static string[] LegendTexts(ScottPlot.Plot plot) =>
        plot.GetPlottables().SelectMany(p => p.LegendItems).Concat(plot.Legend.ManualItems)
            .Select(i => i.LabelText).Where(t => !string.IsNullOrEmpty(t)).ToArray();

    /// <summary>The PNG's pixel size, from its IHDR chunk.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void Png_has_twice_the_pixels_of_the_svg_layout()
    {
        using var temp = new TempFolder();
        var files = FigureRenderer.Write(ReportingSamples.Accuracy(), temp.Path);
        Assert.Equal((FigureRenderer.Width, FigureRenderer.Height), (files.Width, files.Height));
        Assert.Equal((2 * FigureRenderer.Width, 2 * FigureRenderer.Height), PngSize(files.Png));
        var svg = XDocument.Load(files.Svg).Root!;
        Assert.Equal(FigureRenderer.Width.ToString(CultureInfo.InvariantCulture), (string?)svg.Attribute("width"));
    }

    [Fact]
    public void Legend_sits_below_the_plot_area_and_a_long_one_makes_the_figure_taller()
    {
        double[] x = [0, 1000, 2000, 3000, 4000, 5000];
        var rising = new Figure("rising", "Accuracy during training", "Iteration", "Accuracy (%)",
        [
            new Series("a", x, [10, 80, 90, 94, 96, 97]),
            new Series("b", x, [10, 75, 88, 93, 95, 96]),
        ]);
        using (var plot = FigureRenderer.BuildPlot(rising))
        {
            Assert.False(plot.Legend.IsVisible); // never inside the data area
            var panel = Assert.Single(plot.Axes.GetPanels().OfType<ScottPlot.Panels.LegendPanel>());
            Assert.Equal(ScottPlot.Edge.Bottom, panel.Edge);
            Assert.Equal(FigureRenderer.Height, FigureRenderer.LayoutHeight(plot));
            // The plot area ends above the legend: its bottom leaves room for the axis and the legend's row.
            Assert.True(plot.LastRender.DataRect.Bottom < FigureRenderer.Height - 80, $"data area {plot.LastRender.DataRect}");
        }
        using (var plot = FigureRenderer.BuildPlot(ReportingSamples.Loss()))
            Assert.Empty(plot.Axes.GetPanels().OfType<ScottPlot.Panels.LegendPanel>()); // one series, no reference line: no legend

        var crowded = rising with
        {
            Name = "crowded",
            Series = Enumerable.Range(0, 24).Select(i => new Series($"a rather long label for series number {i} (lr=0.0{i})", x, x.Select(v => v / 100 + i).ToArray())).ToArray(),
        };
        using var temp = new TempFolder();
        var files = FigureRenderer.Write(crowded, temp.Path);
        Assert.True(files.Height > FigureRenderer.Height, $"height {files.Height}");
        Assert.Equal((2 * FigureRenderer.Width, 2 * files.Height), PngSize(files.Png));
        using var again = FigureRenderer.BuildPlot(crowded);
        using (again.GetImage(FigureRenderer.Width, files.Height)) { }
        Assert.True(again.LastRender.DataRect.Height >= FigureRenderer.MinimumDataHeight - 1, $"data area {again.LastRender.DataRect}");
    }

    [Fact]
    public void Symlog_axis_places_zero_and_labels_ticks_with_the_step_specs()
    {
        double[] steps = [0, 100, 500, 469, 938, 2345, 4690];
        string[] labels = ["0it", "100it", "500it", "1ep", "2ep", "5ep", "10ep"];
        var order = steps.Select((s, i) => (s, i)).OrderBy(p => p.s).Select(p => p.i).ToArray();
        var figure = new Figure("sweep", "Barrier", "start step", "error barrier (percentage points)",
            [new Series("error barrier", order.Select(i => steps[i]).ToArray(), [0.2, 0.15, 0.05, 0.04, 0.01, 0.008, 0.007])])
        {
            SymLogX = true, XTicks = steps, XTickLabels = labels, YPercent = true,
        };
        using var plot = FigureRenderer.BuildPlot(figure);
        using (plot.GetImage(FigureRenderer.Width, FigureRenderer.Height)) { }
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToArray();
        // 1ep (469) and 500it would print on top of each other: the first is kept.
        Assert.Equal(["0it", "100it", "1ep", "2ep", "5ep", "10ep"], ticks.Select(t => t.Label));
        Assert.Equal(0, ticks[0].Position);
        var gaps = ticks.Zip(ticks.Skip(1), (a, b) => b.Position - a.Position).ToArray();
        Assert.All(gaps, g => Assert.True(g > 0));
        // Log-like: the step from 0 to 100 iterations takes about as much room as from 1ep to 10ep, not 1/47 of it.
        Assert.InRange(ticks[1].Position / (ticks[^1].Position - ticks[2].Position), 0.4, 2.5);

        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { Series = [new Series("a", [-1, 2], [1, 2])] }));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { XTickLabels = ["0it"] }));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(figure with { LogX = true }));
    }

    [Fact]
    public void Different_replicate_counts_are_named_in_the_legend_and_points_with_fewer_are_ringed()
    {
        double[] x = [1, 0.8, 0.64];
        Series Band(string label, int[] counts) =>
            new(label, x, [0.97, 0.975, 0.972], Low: [0.96, 0.97, 0.965], High: [0.98, 0.98, 0.979]) { Replicates = counts };
        var figure = new Figure("counts", "Accuracy", "weights remaining (%)", "test accuracy (%)",
            [Band("ticket", [3, 3, 3]), Band("random_reinit", [3, 2, 2]), Band("random_prune", [3, 3, 3])]) { LogX = true, XPercent = true, YPercent = true };
        using (var plot = FigureRenderer.BuildPlot(figure))
        {
            var legend = LegendTexts(plot);
            Assert.Equal(["ticket (n=3)", "random_reinit (n=2-3)", "random_prune (n=3)", "ringed: fewer than 3 replicates"], legend);
            var rings = plot.GetPlottables().OfType<ScottPlot.Plottables.Markers>().Single();
            Assert.Equal(2, rings.Data.GetScatterPoints().Count); // the two random_reinit points from 2 replicates
            // Every band is see-through, so three overlapping ones stay readable.
            Assert.All(plot.GetPlottables().OfType<ScottPlot.Plottables.FillY>(), band => Assert.InRange(band.FillColor.Alpha, 20, 80));
        }
        var same = figure with { Series = [Band("ticket", [3, 3, 3]), Band("random_reinit", [3, 3, 3])] };
        using (var plot = FigureRenderer.BuildPlot(same))
        {
            Assert.Equal(["ticket", "random_reinit"], LegendTexts(plot));
            Assert.Empty(plot.GetPlottables().OfType<ScottPlot.Plottables.Markers>());
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("dot.ted")]
    [InlineData("ünïcode")]
    [InlineData("quote\"")]
    [InlineData("<script>")]
    public void InvalidNames_AreRejected(string name)
    {
        using var temp = new TempFolder();
        var figure = ReportingSamples.Loss() with { Name = name };
        var error = Assert.Throws<ArgumentException>(() => FigureRenderer.Write(figure, temp.Path));
        Assert.Contains("figure name", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData("loss")]
    [InlineData("Accuracy_vs-Sparsity_2")]
    public void ValidNames_AreAccepted(string name) => Assert.True(FigureNames.IsValid(name));

    [Fact]
    public void InconsistentData_IsRejected()
    {
        Figure With(Series s, bool log = false) => new("bad", "t", "x", "y", [s]) { LogX = log };
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(With(new Series("a", [1, 2], [1]))));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(With(new Series("a", [1, 2], [1, 2], Low: [1, 2]))));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(With(new Series("a", [1, 2], [1, 2], Low: [1], High: [1]))));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(With(new Series("a", [0, 2], [1, 2]), log: true)));
        Assert.Throws<ArgumentException>(() => FigureRenderer.Validate(With(new Series("a", [1, 2], [1, 2]) { Replicates = [1] })));
        FigureRenderer.Validate(With(new Series("a", [0, 2], [1, 2])));
    }

    [Fact]
    public void CsvTable_QuotesAndFormatsInvariantly()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("sub", "table.csv");
        CsvTable.Write(path, ["name", "value", "count", "flag", "missing"],
        [
            ["plain", 0.1 + 0.2, 3, true, null],
            ["comma, \"quoted\"\nline", 1e-300, -7L, false, 2.5f],
        ]);
        string text = File.ReadAllText(path);
        Assert.Equal(
            "name,value,count,flag,missing\n" +
            "plain,0.30000000000000004,3,true,\n" +
            "\"comma, \"\"quoted\"\"\nline\",1E-300,-7,false,2.5\n", text);
        Assert.Equal(0.1 + 0.2, double.Parse("0.30000000000000004", CultureInfo.InvariantCulture));
        Assert.Throws<ArgumentException>(() => CsvTable.Write(path, ["a", "b"], [["only one"]]));
    }

    internal static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5 * 1024, $"{path}: only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
    }

    internal static void AssertSvg(string path)
    {
        Assert.True(File.Exists(path), path);
        Assert.True(new FileInfo(path).Length > 2 * 1024, $"{path}: only {new FileInfo(path).Length} bytes");
        var svg = XDocument.Load(path);
        Assert.Equal(XName.Get("svg", "http://www.w3.org/2000/svg"), svg.Root!.Name);
    }
}
