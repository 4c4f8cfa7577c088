namespace TicketLab.Reporting;

/// <summary>The outline of a histogram given by bin centres and heights: steps up and down at the bin edges, closed at zero.</summary>
public static class HistogramOutline
{
    public static bool EvenlySpaced(IReadOnlyList<double> centres)
    {
        double width = centres[1] - centres[0];
        return width > 0 && centres.Zip(centres.Skip(1), (a, b) => b - a).All(w => Math.Abs(w - width) <= 1e-6 * width);
    }

    public static (IReadOnlyList<double> X, IReadOnlyList<double> Y) Of(IReadOnlyList<double> centres, IReadOnlyList<double> heights)
    {
        if (centres.Count == 0) return (centres, heights);
        double half = centres.Count > 1 ? (centres[1] - centres[0]) / 2 : 0.5;
        var x = new List<double> { centres[0] - half };
        var y = new List<double> { 0 };
        for (int i = 0; i < centres.Count; i++)
        {
            x.AddRange([centres[i] - half, centres[i] + half]);
            y.AddRange([heights[i], heights[i]]);
        }
        x.Add(centres[^1] + half);
        y.Add(0);
        return (x, y);
    }
}
