using System.Globalization;
using ScottPlot;

namespace TicketLab.Reporting;

/// <summary>The three files written for one figure, and the size of its layout (the SVG's; the PNG has <see cref="FigureRenderer.PngScale"/> times the pixels).</summary>
public sealed record FigureFiles(string Png, string Svg, string Csv, int Width, int Height);

/// <summary>
/// Renders a <see cref="Figure"/> with ScottPlot to PNG (at twice the resolution) and SVG, and writes the
/// numbers behind it as CSV. The legend sits below the plot area, so it never covers data; a figure
/// with a long legend grows taller instead of shrinking its plot.
/// </summary>
public static class FigureRenderer
{
    /// <summary>Width of a figure's layout, in CSS pixels.</summary>
    public const int Width = 800;
    /// <summary>Height of a figure's layout without a long legend, in CSS pixels.</summary>
    public const int Height = 500;
    /// <summary>The PNG has this many pixels per layout pixel (sharp on high-density screens and in papers).</summary>
    public const int PngScale = 2;
    /// <summary>A legend may push the figure taller, never the plot area below this height.</summary>
    public const int MinimumDataHeight = 280;
    /// <summary>At most this many labelled x ticks, evenly spread: a figure that asks for more, or for ticks too close together, gets fewer.</summary>
    public const int MaxTicks = 12;

    /// <summary>
    /// Writes <c>folder/Name.png</c>, <c>folder/Name.svg</c> and <c>folder/Name.csv</c> and returns their paths.
    /// The CSV has one row per point, with named columns (see <see cref="CsvHeader"/>), then one row per
    /// reference line with x empty.
    /// </summary>
    public static FigureFiles Write(Figure figure, string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Validate(figure);
        Directory.CreateDirectory(folder);
        string png = Path.Combine(folder, figure.Name + ".png"), svg = Path.Combine(folder, figure.Name + ".svg"), csv = Path.Combine(folder, figure.Name + ".csv");
        int width = figure.Heatmap is { } heatmap ? HeatmapRendering.Size(heatmap) : Width, height;
        using (var plot = BuildPlot(figure))
        {
            height = figure.Heatmap is null ? LayoutHeight(plot) : width;
            plot.SaveSvg(svg, width, height);
            // The same layout at twice the pixels: ScottPlot scales every length, so legend and plot area match the SVG.
            plot.ScaleFactor = PngScale;
            plot.SavePng(png, width * PngScale, height * PngScale);
        }
        if (figure.Heatmap is { } cells) CsvTable.Write(csv, HeatmapRendering.CsvHeader(figure, cells), HeatmapRendering.CsvRows(cells));
        else CsvTable.Write(csv, CsvHeader(figure), CsvRows(figure));
        return new FigureFiles(png, svg, csv, width, height);
    }

    /// <summary>
    /// Sizes the legend below the plot area to the rows its items wrap into at the figure's width (ScottPlot's
    /// own panel measures one unwrapped row, and a little more at every render), and returns the figure height
    /// that leaves the plot area at least <see cref="MinimumDataHeight"/> (<see cref="Height"/> at least).
    /// </summary>
    public static int LayoutHeight(Plot plot)
    {
        using (plot.GetImage(Width, Height)) { }
        if (plot.Axes.GetPanels().OfType<ScottPlot.Panels.LegendPanel>().FirstOrDefault() is { } panel)
        {
            using var paint = Paint.NewDisposablePaint();
            var layout = panel.Legend.Layout.GetLayout(panel.Legend, panel.Legend.GetItems(), new PixelSize(plot.LastRender.DataRect.Width, float.PositiveInfinity), paint);
            float size = layout.LegendRect.Height + panel.Padding.Vertical;
            panel.MinimumSize = panel.MaximumSize = size;
            using (plot.GetImage(Width, Height)) { }
        }
        double dataHeight = plot.LastRender.DataRect.Height;
        return dataHeight >= MinimumDataHeight ? Height : Height + (int)Math.Ceiling(MinimumDataHeight - dataHeight);
    }

    /// <summary>Checks the name, the lengths of all data lists, and that a log axis only sees positive values.</summary>
    public static void Validate(Figure figure)
    {
        ArgumentNullException.ThrowIfNull(figure);
        FigureNames.Validate(figure.Name, nameof(figure));
        ArgumentNullException.ThrowIfNull(figure.Series);
        ArgumentNullException.ThrowIfNull(figure.ReferenceLines);
        if (figure.Heatmap is { } heatmap)
        {
            HeatmapRendering.Validate(figure, heatmap);
            return;
        }
        if (figure.LogX && figure.SymLogX)
            throw new ArgumentException($"Figure '{figure.Name}': choose LogX or SymLogX, not both.", nameof(figure));
        if (figure.Steps && figure.Series.Any(s => s.X.Count > 1 && !HistogramOutline.EvenlySpaced(s.X)))
            throw new ArgumentException($"Figure '{figure.Name}': a histogram's bin centres must be evenly spaced and increasing.", nameof(figure));
        foreach (var s in figure.Series)
        {
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': {s.X.Count} x values but {s.Y.Count} y values.", nameof(figure));
            if ((s.Low is null) != (s.High is null))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': give both Low and High, or neither.", nameof(figure));
            if (s.Low is not null && (s.Low.Count != s.X.Count || s.High!.Count != s.X.Count))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': Low and High need one value per x.", nameof(figure));
            if (s.Replicates is { } counts && (counts.Count != s.X.Count || counts.Any(c => c < 0)))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': Replicates needs one count (0 or more) per x.", nameof(figure));
            if (figure.LogX && s.X.Any(x => !(x > 0) || double.IsInfinity(x)))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': a log x axis needs positive finite x values.", nameof(figure));
            if (figure.SymLogX && s.X.Any(x => !(x >= 0) || double.IsInfinity(x)))
                throw new ArgumentException($"Figure '{figure.Name}', series '{s.Label}': a symlog x axis needs finite x values of 0 or more.", nameof(figure));
        }
        if (figure.XTicks is { } ticks)
        {
            if (ticks.Any(t => !double.IsFinite(t)))
                throw new ArgumentException($"Figure '{figure.Name}': x ticks must be finite.", nameof(figure));
            if (figure.LogX && ticks.Any(t => !(t > 0)))
                throw new ArgumentException($"Figure '{figure.Name}': a log x axis needs positive x ticks.", nameof(figure));
            if (figure.SymLogX && ticks.Any(t => t < 0))
                throw new ArgumentException($"Figure '{figure.Name}': a symlog x axis needs x ticks of 0 or more.", nameof(figure));
        }
        if (figure.XTickLabels is { } labels && labels.Count != (figure.XTicks?.Count ?? -1))
            throw new ArgumentException($"Figure '{figure.Name}': give one x tick label per x tick.", nameof(figure));
        var (x, y) = figure.Columns;
        if (x == y || x is "series" or "replicates" || y is "series" or "replicates")
            throw new ArgumentException($"Figure '{figure.Name}': its CSV columns would be named alike ('{x}', '{y}'); set XColumn or YColumn.", nameof(figure));
    }

    /// <summary>
    /// The ScottPlot plot for a figure (the caller disposes it). Plotted x coordinates are the axis'
    /// transform of the values (log10 with <see cref="Figure.LogX"/>), labelled with the values;
    /// percent axes plot 100 times the values.
    /// </summary>
    public static Plot BuildPlot(Figure figure)
    {
        Validate(figure);
        var plot = new Plot();
        try
        {
            if (figure.Heatmap is { } heatmap)
            {
                if (SansFont is not null) plot.Font.Set(SansFont);
                HeatmapRendering.Populate(plot, figure, heatmap);
            }
            else Populate(plot, figure);
            return plot;
        }
        catch
        {
            plot.Dispose();
            throw;
        }
    }

    /// <summary>Where a figure's x values are drawn: percent scaling, then the axis transform.</summary>
    private sealed class XAxis
    {
        private readonly Figure figure;
        private readonly double linear;

        public XAxis(Figure figure)
        {
            this.figure = figure;
            var positive = figure.Series.SelectMany(s => s.X).Concat(figure.XTicks ?? []).Select(Display).Where(x => x > 0).ToArray();
            linear = positive.Length > 0 ? positive.Min() / 3 : 1;
        }

        public double Display(double x) => figure.XPercent ? 100 * x : x;

        /// <summary>The plot coordinate of a displayed value.</summary>
        public double Place(double display) =>
            figure.LogX ? Math.Log10(display) : figure.SymLogX ? Math.Log10(1 + display / linear) : display;

        public double Of(double x) => Place(Display(x));

        /// <summary>
        /// Ticks whose labels cannot overlap: at least 1/<see cref="MaxTicks"/> of the axis apart (20 lottery
        /// levels keep every second one; of 500it and 1ep on a step axis, the first). The largest is always kept.
        /// </summary>
        private (double Value, string Label)[] Spaced((double Value, string Label)[] ascending)
        {
            if (ascending.Length < 2) return ascending;
            var positions = ascending.Select(t => Place(t.Value)).ToArray();
            double gap = (positions.Max() - positions.Min()) / MaxTicks;
            var kept = new List<int> { 0 };
            for (int i = 1; i < ascending.Length; i++)
                if (Math.Abs(positions[i] - positions[kept[^1]]) >= gap) kept.Add(i);
            if (kept[^1] != ascending.Length - 1)
            {
                if (kept.Count > 1 && Math.Abs(positions[^1] - positions[kept[^1]]) < gap) kept.RemoveAt(kept.Count - 1);
                kept.Add(ascending.Length - 1);
            }
            return kept.Select(i => ascending[i]).ToArray();
        }

        /// <summary>The ticks as (displayed value, label): the figure's own, or decades on a log-like axis, or null (ScottPlot's).</summary>
        public IReadOnlyList<(double Value, string Label)>? Ticks()
        {
            if (figure.XTicks is { } ticks)
            {
                var distinct = ticks.Select((t, i) => (Value: Display(t), Label: figure.XTickLabels?[i] ?? FormatTick(Display(t))))
                    .DistinctBy(t => t.Value).OrderBy(t => t.Value).ToArray();
                return Spaced(distinct);
            }
            if (!figure.LogX && !figure.SymLogX) return null;
            var xs = figure.Series.SelectMany(s => s.X).Select(Display).Where(x => x > 0).ToList();
            var decades = new List<(double, string)>();
            if (figure.SymLogX) decades.Add((0, "0"));
            if (xs.Count == 0) return figure.LogX ? [(1, "1")] : decades;
            int first = (int)Math.Floor(Math.Log10(figure.SymLogX ? Math.Max(xs.Min(), linear * 3) : xs.Min()) + 1e-9);
            int last = (int)Math.Ceiling(Math.Log10(xs.Max()) - 1e-9);
            for (int k = first; k <= last; k++)
            {
                double value = double.Parse($"1e{k}", CultureInfo.InvariantCulture);
                decades.Add((value, FormatTick(value)));
            }
            return decades;
        }
    }

    /// <summary>The first sans-serif family installed (ScottPlot falls back to a serif one on Linux), or null for ScottPlot's choice.</summary>
    internal static readonly string? SansFont = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans" }
        .FirstOrDefault(SkiaSharp.SKFontManager.Default.GetFontFamilies().Contains);

    private static void Populate(Plot plot, Figure figure)
    {
        if (SansFont is not null) plot.Font.Set(SansFont);
        var axis = new XAxis(figure);
        var palette = new ScottPlot.Palettes.Category10();
        int most = figure.Series.SelectMany(s => s.Replicates ?? []).DefaultIfEmpty(0).Max();
        bool countsDiffer = figure.Series.SelectMany(s => s.Replicates ?? []).Distinct().Count() > 1;

        // Plottables are drawn in the order they are added: bands under lines, rings and reference lines over them.
        AddBands(plot, figure, axis, palette);
        AddLines(plot, figure, axis, palette, countsDiffer);
        bool ringed = AddRings(plot, figure, axis, palette, most, countsDiffer);
        AddReferenceLines(plot, figure, palette);

        plot.Title(figure.Title);
        plot.XLabel(figure.XLabel);
        plot.YLabel(figure.YLabel);

        var ticks = axis.Ticks();
        SetXTicks(plot, figure, axis, ticks);
        plot.Axes.AutoScale();
        SetXLimits(plot, figure, axis, ticks);
        SetLegend(plot, figure, ringed, most);
    }

    /// <summary>Where a y value is drawn: percent axes plot 100 times the values.</summary>
    private static double PlotY(Figure figure, double y) => figure.YPercent ? 100 * y : y;

    /// <summary>
    /// Bands first so that every line is drawn on top of every band; each band light enough that
    /// two or three overlapping ones stay readable, with its edges in its line's colour.
    /// </summary>
    private static void AddBands(Plot plot, Figure figure, XAxis axis, IPalette palette)
    {
        for (int i = 0; i < figure.Series.Count; i++)
        {
            var s = figure.Series[i];
            if (s.Low is null || s.High is null || s.X.Count == 0) continue;
            var band = plot.Add.FillY(s.X.Select(axis.Of).ToArray(), s.Low.Select(y => PlotY(figure, y)).ToArray(), s.High.Select(y => PlotY(figure, y)).ToArray());
            band.FillColor = palette.GetColor(i).WithAlpha(0.16);
            band.LineColor = palette.GetColor(i).WithAlpha(0.55);
            band.LineWidth = 0.8f;
            band.LegendText = "";
        }
    }

    private static void AddLines(Plot plot, Figure figure, XAxis axis, IPalette palette, bool countsDiffer)
    {
        for (int i = 0; i < figure.Series.Count; i++)
        {
            var s = figure.Series[i];
            var (xs, ys) = figure.Steps ? HistogramOutline.Of(s.X, s.Y) : (s.X, s.Y);
            var line = plot.Add.Scatter(xs.Select(axis.Of).ToArray(), ys.Select(y => PlotY(figure, y)).ToArray(), palette.GetColor(i));
            line.LegendText = countsDiffer && s.Replicates is { Count: > 0 } counts ? $"{s.Label} ({CountText(counts)})" : s.Label;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Count <= 40 && !figure.Steps ? 6 : 0;
            // The palette has 10 colours: the next ten series reuse them with other markers.
            line.MarkerShape = ((MarkerShape[])[MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond])[i / 10 % 4];
            // Skia's SVG back end drops dash patterns (and complains on stderr), so a "dashed"
            // series is told apart by a thinner line and hollow square markers instead; the PNG
            // and the SVG then look the same.
            if (s.Dashed)
            {
                line.LineWidth = 1.2f;
                line.MarkerShape = ((MarkerShape[])[MarkerShape.OpenSquare, MarkerShape.OpenCircle, MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond])[i / 10 % 4];
                line.MarkerSize = s.X.Count <= 40 && !figure.Steps ? 7 : 0;
            }
        }
    }

    /// <summary>Rings the points that stand for fewer replicates than the figure's most; true when it ringed any.</summary>
    private static bool AddRings(Plot plot, Figure figure, XAxis axis, IPalette palette, int most, bool countsDiffer)
    {
        bool ringed = false;
        for (int i = 0; i < figure.Series.Count; i++)
        {
            var s = figure.Series[i];
            if (s.Replicates is not { } counts || !countsDiffer) continue;
            var fewer = Enumerable.Range(0, s.X.Count).Where(k => counts[k] < most).ToArray();
            if (fewer.Length == 0) continue;
            var rings = plot.Add.Markers(fewer.Select(k => axis.Of(s.X[k])).ToArray(), fewer.Select(k => PlotY(figure, s.Y[k])).ToArray(), MarkerShape.OpenCircle, 13, palette.GetColor(i));
            rings.LegendText = "";
            ringed = true;
        }
        return ringed;
    }

    /// <summary>Reference lines take the palette's colours after the series'.</summary>
    private static void AddReferenceLines(Plot plot, Figure figure, IPalette palette)
    {
        for (int i = 0; i < figure.ReferenceLines.Count; i++)
        {
            var r = figure.ReferenceLines[i];
            var line = plot.Add.HorizontalLine(PlotY(figure, r.Y));
            line.LegendText = r.Label;
            line.LineWidth = 1.5f;
            line.Color = palette.GetColor(figure.Series.Count + i).WithAlpha(0.7);
        }
    }

    /// <summary>The figure's own ticks, or decades (with minor ticks on a log axis); none leaves ScottPlot's.</summary>
    private static void SetXTicks(Plot plot, Figure figure, XAxis axis, IReadOnlyList<(double Value, string Label)>? ticks)
    {
        if (ticks is null) return;
        var manual = new ScottPlot.TickGenerators.NumericManual();
        foreach (var (value, label) in ticks) manual.AddMajor(axis.Place(value), label);
        if (figure.LogX && figure.XTicks is null)
            foreach (double minor in MinorDecadeTicks(ticks.Select(t => t.Value).ToArray())) manual.AddMinor(Math.Log10(minor));
        plot.Axes.Bottom.TickGenerator = manual;
    }

    /// <summary>After autoscaling: widens the x range to every tick, then reverses it if the figure asks.</summary>
    private static void SetXLimits(Plot plot, Figure figure, XAxis axis, IReadOnlyList<(double Value, string Label)>? ticks)
    {
        if (ticks is not null && ticks.Count > 0)
        {
            // Keep every requested tick inside the view.
            var limits = plot.Axes.GetLimits();
            double lo = Math.Min(limits.Left, ticks.Min(t => axis.Place(t.Value))), hi = Math.Max(limits.Right, ticks.Max(t => axis.Place(t.Value)));
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
    }

    /// <summary>A legend when there is more than one thing to tell apart (the ring explained too), else none.</summary>
    private static void SetLegend(Plot plot, Figure figure, bool ringed, int most)
    {
        if (figure.Series.Count > 1 || figure.ReferenceLines.Count > 0 || ringed)
        {
            if (ringed)
                plot.Legend.ManualItems.Add(new LegendItem
                {
                    LabelText = $"ringed: fewer than {most} replicates",
                    MarkerShape = MarkerShape.OpenCircle, MarkerSize = 11, MarkerLineColor = Colors.Black, MarkerLineWidth = 1.5f, LineWidth = 0,
                });
            // Below the plot area, never over the data; items side by side, wrapped to the figure's width.
            var panel = plot.ShowLegend(Edge.Bottom);
            panel.Legend.Orientation = Orientation.Horizontal;
            panel.Legend.TightHorizontalWrapping = true;
        }
        else plot.HideLegend();
    }

    /// <summary>"n=3", or "n=2-3" when the points of one series stand for different numbers of replicates.</summary>
    private static string CountText(IReadOnlyList<int> counts) =>
        counts.Min() == counts.Max() ? $"n={counts[0]}" : $"n={counts.Min()}-{counts.Max()}";

    private static IEnumerable<double> MinorDecadeTicks(IReadOnlyList<double> decades)
    {
        foreach (double d in decades.Take(decades.Count - 1))
            for (int m = 2; m <= 9; m++) yield return d * m;
    }

    /// <summary>Tick label: the value itself in the invariant culture (100, 51.2, 0.001, 1E+06).</summary>
    public static string FormatTick(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>
    /// The CSV columns of a figure: <c>series</c>, its x and y columns (named from the axes, e.g.
    /// <c>weights_remaining,test_accuracy</c>), <c>&lt;y&gt;_min,&lt;y&gt;_max</c> when a series has a band
    /// and <c>replicates</c> when a series counts them. Values as the figure holds them (fractions for percent axes).
    /// </summary>
    public static IReadOnlyList<string> CsvHeader(Figure figure)
    {
        var (x, y) = figure.Columns;
        var header = new List<string> { "series", x, y };
        if (figure.Series.Any(s => s.Low is not null)) header.AddRange([y + "_min", y + "_max"]);
        if (figure.Series.Any(s => s.Replicates is not null)) header.Add("replicates");
        return header;
    }

    private static IEnumerable<IReadOnlyList<object?>> CsvRows(Figure figure)
    {
        bool bands = figure.Series.Any(s => s.Low is not null), counts = figure.Series.Any(s => s.Replicates is not null);
        IReadOnlyList<object?> Row(string label, double? x, double y, double? low, double? high, int? replicates)
        {
            var row = new List<object?> { label, x, y };
            if (bands) row.AddRange([low, high]);
            if (counts) row.Add(replicates);
            return row;
        }
        foreach (var s in figure.Series)
            for (int i = 0; i < s.X.Count; i++)
                yield return Row(s.Label, s.X[i], s.Y[i], s.Low?[i], s.High?[i], s.Replicates?[i]);
        foreach (var r in figure.ReferenceLines)
            yield return Row(r.Label, null, r.Y, null, null, null);
    }
}
