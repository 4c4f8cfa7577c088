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
    public void Csv_HoldsExactlyTheFigureData()
    {
        using var temp = new TempFolder();
        foreach (var figure in new[] { ReportingSamples.Accuracy(), ReportingSamples.Loss() })
        {
            var files = FigureRenderer.Write(figure, temp.Path);
            var lines = File.ReadAllLines(files.Csv);
            Assert.Equal("series,x,y,low,high", lines[0]);

            int expectedRows = figure.Series.Sum(s => s.X.Count) + figure.ReferenceLines.Count;
            Assert.Equal(expectedRows, lines.Length - 1);

            int row = 1;
            foreach (var s in figure.Series)
                for (int i = 0; i < s.X.Count; i++, row++)
                {
                    string[] cells = lines[row].Split(',');
                    Assert.Equal(s.Label, cells[0]);
                    Assert.Equal(s.X[i], double.Parse(cells[1], CultureInfo.InvariantCulture));
                    Assert.Equal(s.Y[i], double.Parse(cells[2], CultureInfo.InvariantCulture));
                    if (s.Low is null) Assert.Equal(["", ""], cells[3..]);
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
            var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
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
        Assert.Equal(["series,x,y,low,high"], File.ReadAllLines(files.Csv));
    }

    [Fact]
    public void Legend_GoesToACornerWithoutData()
    {
        double[] x = [0, 1000, 2000, 3000, 4000, 5000];
        var rising = new Figure("rising", "Accuracy during training", "Iteration", "Accuracy (%)",
        [
            new Series("a", x, [10, 80, 90, 94, 96, 97]),
            new Series("b", x, [10, 75, 88, 93, 95, 96]),
        ]);
        using (var plot = FigureRenderer.BuildPlot(rising))
        {
            Assert.True(plot.Legend.IsVisible);
            Assert.Equal(ScottPlot.Alignment.LowerRight, plot.Legend.Alignment);
        }
        using (var plot = FigureRenderer.BuildPlot(ReportingSamples.Accuracy()))
            Assert.Equal(ScottPlot.Alignment.LowerLeft, plot.Legend.Alignment);
        using (var plot = FigureRenderer.BuildPlot(ReportingSamples.Loss()))
            Assert.False(plot.Legend.IsVisible); // one series, no reference line
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
