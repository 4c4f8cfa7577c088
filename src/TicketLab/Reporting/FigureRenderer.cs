using System.Globalization;
using ScottPlot;

namespace TicketLab.Reporting;

/// <summary>The three files written for one figure.</summary>
public sealed record FigureFiles(string Png, string Svg, string Csv);

/// <summary>Renders a <see cref="Figure"/> with ScottPlot to PNG and SVG, and writes the numbers behind it as CSV.</summary>
public static class FigureRenderer
{
    public const int Width = 800;
    public const int Height = 500;

    /// <summary>Header of the figure CSV files.</summary>
    public static readonly IReadOnlyList<string> CsvHeader = ["series", "x", "y", "low", "high"];

    /// <summary>
    /// Writes <c>folder/Name.png</c>, <c>folder/Name.svg</c> and <c>folder/Name.csv</c> and returns their paths.
    /// The CSV has one row per point (<c>series,x,y,low,high</c>, low/high empty when the series has no band),
    /// then one row per reference line with x, low and high empty.
    /// </summary>
    public static FigureFiles Write(Figure figure, string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Validate(figure);
        Directory.CreateDirectory(folder);
        var files = new FigureFiles(
            Path.Combine(folder, figure.Name + ".png"),
            Path.Combine(folder, figure.Name + ".svg"),
            Path.Combine(folder, figure.Name + ".csv"));

        using (var plot = BuildPlot(figure))
        {
            plot.SavePng(files.Png, Width, Height);
            plot.SaveSvg(files.Svg, Width, Height);
        }
        CsvTable.Write(files.Csv, CsvHeader, CsvRows(figure));
        return files;
    }

    /// <summary>Checks the name, the lengths of all data lists, and that a log axis only sees positive values.</summary>
    public static void Validate(Figure figure)
    {
        ArgumentNullException.ThrowIfNull(figure);
        FigureNames.Validate(figure.Name, nameof(figure));
        ArgumentNullException.ThrowIfNull(figure.Series);
        ArgumentNullException.ThrowIfNull(figure.ReferenceLines);
        foreach (var s in figure.Series)
        {
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': {s.X.Count} x values but {s.Y.Count} y values.", nameof(figure));
            if ((s.Low is null) != (s.High is null))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': give both Low and High, or neither.", nameof(figure));
            if (s.Low is not null && (s.Low.Count != s.X.Count || s.High!.Count != s.X.Count))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': Low and High need one value per x.", nameof(figure));
            if (figure.LogX && s.X.Any(x => !(x > 0) || double.IsInfinity(x)))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': a log x axis needs positive finite x values.", nameof(figure));
        }
        if (figure.XTicks is { } ticks)
        {
            if (ticks.Any(t => !double.IsFinite(t)))
                throw new ArgumentException($"Figure '{figure.Name}': x ticks must be finite.", nameof(figure));
            if (figure.LogX && ticks.Any(t => !(t > 0)))
                throw new ArgumentException($"Figure '{figure.Name}': a log x axis needs positive x ticks.", nameof(figure));
        }
    }

    /// <summary>
    /// The ScottPlot plot for a figure (the caller disposes it). With <see cref="Figure.LogX"/> the plotted
    /// x coordinates are log10(x), labelled with the original values.
    /// </summary>
    public static Plot BuildPlot(Figure figure)
    {
        Validate(figure);
        var plot = new Plot();
        try
        {
            Populate(plot, figure);
            return plot;
        }
        catch
        {
            plot.Dispose();
            throw;
        }
    }

    private static void Populate(Plot plot, Figure figure)
    {
        double Tx(double x) => figure.LogX ? Math.Log10(x) : x;
        var palette = new ScottPlot.Palettes.Category10();

        // Bands first so that every line is drawn on top of every band.
        for (int i = 0; i < figure.Series.Count; i++)
        {
            var s = figure.Series[i];
            if (s.Low is null || s.High is null || s.X.Count == 0) continue;
            var band = plot.Add.FillY(s.X.Select(Tx).ToArray(), s.Low.ToArray(), s.High.ToArray());
            band.FillColor = palette.GetColor(i).WithAlpha(0.22);
            band.LineWidth = 0;
            band.LegendText = "";
        }
        for (int i = 0; i < figure.Series.Count; i++)
        {
            var s = figure.Series[i];
            var line = plot.Add.Scatter(s.X.Select(Tx).ToArray(), s.Y.ToArray(), palette.GetColor(i));
            line.LegendText = s.Label;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Count <= 40 ? 6 : 0;
            // Skia's SVG back end drops dash patterns (and complains on stderr), so a "dashed"
            // series is told apart by a thinner line and hollow square markers instead; the PNG
            // and the SVG then look the same.
            if (s.Dashed)
            {
                line.LineWidth = 1.2f;
                line.MarkerShape = MarkerShape.OpenSquare;
                line.MarkerSize = s.X.Count <= 40 ? 7 : 0;
            }
        }
        for (int i = 0; i < figure.ReferenceLines.Count; i++)
        {
            var r = figure.ReferenceLines[i];
            var line = plot.Add.HorizontalLine(r.Y);
            line.LegendText = r.Label;
            line.LineWidth = 1.5f;
            line.Color = palette.GetColor(figure.Series.Count + i).WithAlpha(0.7);
        }

        plot.Title(figure.Title);
        plot.XLabel(figure.XLabel);
        plot.YLabel(figure.YLabel);

        var ticks = figure.XTicks ?? (figure.LogX ? DecadeTicks(figure) : null);
        if (ticks is not null)
        {
            var manual = new ScottPlot.TickGenerators.NumericManual();
            foreach (double t in ticks.Distinct()) manual.AddMajor(Tx(t), FormatTick(t));
            if (figure.LogX && figure.XTicks is null)
                foreach (double minor in MinorDecadeTicks(ticks)) manual.AddMinor(Math.Log10(minor));
            plot.Axes.Bottom.TickGenerator = manual;
        }

        plot.Axes.AutoScale();
        if (ticks is not null && ticks.Count > 0)
        {
            // Keep every requested tick inside the view.
            var limits = plot.Axes.GetLimits();
            double lo = Math.Min(limits.Left, ticks.Min(Tx)), hi = Math.Max(limits.Right, ticks.Max(Tx));
            if (lo < limits.Left || hi > limits.Right)
            {
                double pad = (hi - lo) * 0.03;
                plot.Axes.SetLimitsX(lo - pad, hi + pad);
            }
        }
        if (figure.ReverseX)
        {
            var limits = plot.Axes.GetLimits();
            plot.Axes.SetLimitsX(Math.Max(limits.Left, limits.Right), Math.Min(limits.Left, limits.Right));
        }

        int entries = figure.Series.Count + figure.ReferenceLines.Count;
        if (figure.Series.Count > 1 || figure.ReferenceLines.Count > 0) plot.ShowLegend(EmptiestCorner(figure, plot.Axes.GetLimits(), entries));
        else plot.HideLegend();
    }

    /// <summary>The legend corner that covers the fewest data points (lines, bands and reference lines).</summary>
    private static Alignment EmptiestCorner(Figure figure, AxisLimits limits, int entries)
    {
        double width = limits.Right - limits.Left, height = limits.Top - limits.Bottom;
        var points = new List<(double Fx, double Fy)>();
        void Add(double x, double y)
        {
            if (double.IsFinite(x) && double.IsFinite(y) && width != 0 && height != 0)
                points.Add(((x - limits.Left) / width, (y - limits.Bottom) / height));
        }
        foreach (var s in figure.Series)
            for (int i = 0; i < s.X.Count; i++)
            {
                double x = figure.LogX ? Math.Log10(s.X[i]) : s.X[i];
                Add(x, s.Y[i]);
                if (s.Low is not null) Add(x, s.Low[i]);
                if (s.High is not null) Add(x, s.High[i]);
                if (i > 0) // the segment's midpoint, so sparse lines still count where they pass
                    Add((x + (figure.LogX ? Math.Log10(s.X[i - 1]) : s.X[i - 1])) / 2, (s.Y[i] + s.Y[i - 1]) / 2);
            }
        foreach (var r in figure.ReferenceLines)
            for (int k = 0; k <= 20; k++) Add(limits.Left + width * k / 20.0, r.Y);

        double boxWidth = 0.4, boxHeight = Math.Min(0.9, 0.08 + 0.07 * entries);
        (Alignment Corner, bool Left, bool Bottom)[] corners =
        [
            (Alignment.LowerLeft, true, true), (Alignment.UpperRight, false, false),
            (Alignment.LowerRight, false, true), (Alignment.UpperLeft, true, false),
        ];
        return corners.MinBy(c => points.Count(p =>
            (c.Left ? p.Fx <= boxWidth : p.Fx >= 1 - boxWidth) &&
            (c.Bottom ? p.Fy <= boxHeight : p.Fy >= 1 - boxHeight))).Corner;
    }

    /// <summary>Decades covering the data: 0.01, 0.1, 1, 10, ...</summary>
    private static IReadOnlyList<double> DecadeTicks(Figure figure)
    {
        var xs = figure.Series.SelectMany(s => s.X).ToList();
        if (xs.Count == 0) return [1];
        int first = (int)Math.Floor(Math.Log10(xs.Min()) + 1e-9), last = (int)Math.Ceiling(Math.Log10(xs.Max()) - 1e-9);
        return Enumerable.Range(first, last - first + 1).Select(k => double.Parse($"1e{k}", CultureInfo.InvariantCulture)).ToList();
    }

    private static IEnumerable<double> MinorDecadeTicks(IReadOnlyList<double> decades)
    {
        foreach (double d in decades.Take(decades.Count - 1))
            for (int m = 2; m <= 9; m++) yield return d * m;
    }

    /// <summary>Tick label: the value itself in the invariant culture (100, 51.2, 0.001, 1E+06).</summary>
    public static string FormatTick(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static IEnumerable<IReadOnlyList<object?>> CsvRows(Figure figure)
    {
        foreach (var s in figure.Series)
            for (int i = 0; i < s.X.Count; i++)
                yield return [s.Label, s.X[i], s.Y[i], s.Low?[i], s.High?[i]];
        foreach (var r in figure.ReferenceLines)
            yield return [r.Label, null, r.Y, null, null];
    }
}
