namespace TicketLab.Reporting;

/// <summary>
/// One line of a figure. <paramref name="Low"/> and <paramref name="High"/>, when both given, are drawn as a
/// shaded band (for example the min and max over repeated runs) behind the line.
/// </summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y,
    IReadOnlyList<double>? Low = null, IReadOnlyList<double>? High = null, bool Dashed = false);

/// <summary>A horizontal line across the whole figure, for example the accuracy of the dense network.</summary>
public sealed record ReferenceLine(string Label, double Y);

/// <summary>
/// A line chart, independent of where its numbers come from. <see cref="Name"/> is the file name
/// (without extension) of the rendered files, so it may only hold letters, digits, '_' and '-'.
/// </summary>
public sealed record Figure(string Name, string Title, string XLabel, string YLabel, IReadOnlyList<Series> Series)
{
    /// <summary>Log-scale x axis (all x values and ticks must be positive).</summary>
    public bool LogX { get; init; }

    /// <summary>X decreasing from left to right (lottery papers: 100, 51.2, 26.2 ... % of weights remaining).</summary>
    public bool ReverseX { get; init; }

    /// <summary>When set, x ticks exactly at these values, labelled with them.</summary>
    public IReadOnlyList<double>? XTicks { get; init; }

    public IReadOnlyList<ReferenceLine> ReferenceLines { get; init; } = [];
}
