using System.Globalization;

namespace TicketLab.Foundations;

/// <summary>
/// The rule for numbers in stored data (JSON, CSV) and in <c>--json</c> output, so that pandas and
/// jq read the value that was meant, never float noise such as <c>73.61999999999999</c>:
/// <list type="bullet">
/// <item>units are fractions (an accuracy of 0.9812, 0.2 of the weights remaining); percent is for human text only;</item>
/// <item>measured values (an evaluation's accuracy and loss, a learning rate) are written as measured;</item>
/// <item>a fraction of counts is one division (<see cref="Fraction"/>), which is exact to the last digit;</item>
/// <item>derived values (means over replicates, differences of measured values) are rounded to
/// <see cref="DerivedDigits"/> significant digits (<see cref="Derived"/>): far more than any
/// measurement carries, and far above the 1e-16 relative error of double arithmetic;</item>
/// <item>every number is written in its shortest round-trip form (<c>"R"</c>, what System.Text.Json does).</item>
/// </list>
/// </summary>
public static class DataNumbers
{
    public const int DerivedDigits = 12;

    /// <summary>A derived value rounded to <see cref="DerivedDigits"/> significant digits; NaN and infinities unchanged.</summary>
    public static double Derived(double value) =>
        double.IsFinite(value) && value != 0
            ? double.Parse(value.ToString("G" + DerivedDigits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
            : value;

    /// <summary><paramref name="part"/> / <paramref name="whole"/> in one division (NaN when the whole is 0).</summary>
    public static double Fraction(long part, long whole) => whole == 0 ? double.NaN : (double)part / whole;

    /// <summary>The shortest text that reads back to the same double, in the invariant culture.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
