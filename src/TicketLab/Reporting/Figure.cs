namespace TicketLab.Reporting;

/// <summary>
/// One line of a figure. <paramref name="Low"/> and <paramref name="High"/>, when both given, are drawn as a
/// shaded band (for example the min and max over repeated runs) behind the line.
/// </summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y,
    IReadOnlyList<double>? Low = null, IReadOnlyList<double>? High = null, bool Dashed = false)
{
    /// <summary>
    /// How many replicates each point (and its band) stands for, when the series aggregates several.
    /// Written to the CSV; when the series of a figure stand for different numbers of replicates,
    /// the legend says how many and points with fewer than the figure's most are ringed.
    /// </summary>
    public IReadOnlyList<int>? Replicates { get; init; }

    /// <summary>
    /// A series over replicates: at each x, the mean of its values (a derived number, rounded as
    /// <see cref="Foundations.DataNumbers.Derived"/> says) with a band from the smallest to the largest.
    /// </summary>
    public static Series OverReplicates(string label, IReadOnlyList<(double X, double[] Values)> points, bool dashed = false) =>
        new(label, points.Select(p => p.X).ToArray(), points.Select(p => Foundations.DataNumbers.Derived(p.Values.Average())).ToArray(),
            points.Select(p => p.Values.Min()).ToArray(), points.Select(p => p.Values.Max()).ToArray(), dashed)
        {
            Replicates = points.Select(p => p.Values.Length).ToArray(),
        };
}

/// <summary>A horizontal line across the whole figure, for example the accuracy of the dense network.</summary>
public sealed record ReferenceLine(string Label, double Y);

/// <summary>
/// A matrix of values drawn as coloured cells with each value printed in its cell, and a colour bar
/// (a distance matrix over the rounds of a lottery run). NaN cells stay empty. Row 0 is drawn at the top.
/// </summary>
public sealed record Heatmap(IReadOnlyList<string> RowLabels, IReadOnlyList<string> ColumnLabels, IReadOnlyList<IReadOnlyList<double>> Values, string ValueLabel)
{
    /// <summary>How each cell's number is printed (.NET format string, invariant culture).</summary>
    public string CellFormat { get; init; } = "F2";
}

/// <summary>
/// A line chart, independent of where its numbers come from. <see cref="Name"/> is the file name
/// (without extension) of the rendered files, so it may only hold letters, digits, '_' and '-'.
/// Values are in the units of stored data (fractions); <see cref="XPercent"/> and <see cref="YPercent"/>
/// draw an axis in percent, while the CSV beside the figure keeps the fractions.
/// </summary>
public sealed record Figure(string Name, string Title, string XLabel, string YLabel, IReadOnlyList<Series> Series)
{
    /// <summary>Log-scale x axis (all x values and ticks must be positive).</summary>
    public bool LogX { get; init; }

    /// <summary>
    /// A log-like x axis that also places 0 (for steps from 0 to thousands of iterations):
    /// x is drawn at log10(1 + x / c), with c a third of the smallest positive x. Values must not be negative.
    /// </summary>
    public bool SymLogX { get; init; }

    /// <summary>X decreasing from left to right (lottery papers: 100, 51.2, 26.2 ... % of weights remaining).</summary>
    public bool ReverseX { get; init; }

    /// <summary>When set, x ticks exactly at these values, labelled with them (in percent with <see cref="XPercent"/>).</summary>
    public IReadOnlyList<double>? XTicks { get; init; }

    /// <summary>Labels of <see cref="XTicks"/>, one per tick (for example the step specs 0it, 100it, 1ep).</summary>
    public IReadOnlyList<string>? XTickLabels { get; init; }

    /// <summary>X values are fractions, drawn in percent.</summary>
    public bool XPercent { get; init; }

    /// <summary>Y values (and reference lines) are fractions, drawn in percent.</summary>
    public bool YPercent { get; init; }

    /// <summary>The CSV column of x values; by default made from <see cref="XLabel"/> ("weights remaining (%)": weights_remaining).</summary>
    public string? XColumn { get; init; }

    /// <summary>The CSV column of y values (band columns add _min and _max); by default made from <see cref="YLabel"/>.</summary>
    public string? YColumn { get; init; }

    public IReadOnlyList<ReferenceLine> ReferenceLines { get; init; } = [];

    /// <summary>
    /// Each series is a histogram: its X are the centres of bins of equal width, its Y their heights,
    /// drawn as outlines (steps) so that several overlay readably.
    /// </summary>
    public bool Steps { get; init; }

    /// <summary>When set, the figure is this heatmap (<see cref="Series"/> stays empty; x and y labels name its columns and rows).</summary>
    public Heatmap? Heatmap { get; init; }

    /// <summary>The CSV column names: series, x, y, y_min, y_max (bands), replicates (counts).</summary>
    public (string X, string Y) Columns => (XColumn ?? ColumnName(XLabel, "x"), YColumn ?? ColumnName(YLabel, "y"));

    /// <summary>An axis label as a column name: without its unit in brackets, lower case, words joined by '_'.</summary>
    public static string ColumnName(string label, string fallback)
    {
        int unit = label.IndexOf('(');
        string text = (unit > 0 ? label[..unit] : label).ToLowerInvariant();
        var name = new string(text.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        while (name.Contains("__", StringComparison.Ordinal)) name = name.Replace("__", "_", StringComparison.Ordinal);
        name = name.Trim('_');
        return name.Length == 0 ? fallback : name;
    }
}
