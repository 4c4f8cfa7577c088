using System.Globalization;
using System.Text.RegularExpressions;

namespace TicketLab.Foundations;

/// <summary>
/// A point in training, counted in iterations, bound to the epoch length of a dataset.
/// Steps of different epoch lengths are not comparable.
/// </summary>
public readonly record struct Step(long Iteration, int IterationsPerEpoch) : IComparable<Step>
{
    public long Epoch => Iteration / IterationsPerEpoch;
    public int IterationInEpoch => (int)(Iteration % IterationsPerEpoch);
    public bool IsEpochStart => IterationInEpoch == 0;

    public static Step Zero(int iterationsPerEpoch) => new(0, iterationsPerEpoch);
    public static Step FromEpochs(long epoch, int iteration, int iterationsPerEpoch) =>
        new(epoch * iterationsPerEpoch + iteration, iterationsPerEpoch);

    public Step Next => this with { Iteration = Iteration + 1 };

    public int CompareTo(Step other)
    {
        if (other.IterationsPerEpoch != IterationsPerEpoch)
            throw new InvalidOperationException($"Cannot compare steps with {IterationsPerEpoch} and {other.IterationsPerEpoch} iterations per epoch.");
        return Iteration.CompareTo(other.Iteration);
    }

    public static bool operator <(Step a, Step b) => a.CompareTo(b) < 0;
    public static bool operator >(Step a, Step b) => a.CompareTo(b) > 0;
    public static bool operator <=(Step a, Step b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Step a, Step b) => a.CompareTo(b) >= 0;

    /// <summary>File- and log-friendly form, e.g. <c>ep2_it100</c>.</summary>
    public string Label => $"ep{Epoch}_it{IterationInEpoch}";
    public override string ToString() => $"{Epoch}ep{IterationInEpoch}it";
}

/// <summary>
/// A duration or point written by a user: <c>160ep</c>, <c>30000it</c>, <c>2ep100it</c>.
/// It becomes a <see cref="Step"/> once the epoch length is known.
/// </summary>
public readonly partial record struct StepSpec(long Epochs, long Iterations)
{
    [GeneratedRegex(@"^\s*(?:(?<ep>\d+)\s*ep)?\s*(?:(?<it>\d+)\s*it)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    /// <summary>
    /// Bounds far beyond any training (a billion epochs, a trillion iterations) that keep every step
    /// in range once multiplied by an epoch's length, instead of wrapping around to a short run.
    /// </summary>
    public const long MaxEpochs = 1_000_000_000, MaxIterations = 1_000_000_000_000;

    public static StepSpec Parse(string text)
    {
        if (!TryParse(text, out var spec))
            throw new FormatException(IsStep(text)
                ? $"'{text}' is too large: a step has at most {MaxEpochs}ep and {MaxIterations}it."
                : $"'{text}' is not a step: expected a number of epochs and/or iterations such as 160ep, 30000it or 2ep100it.");
        return spec;
    }

    private static bool IsStep(string? text) => text is not null && Pattern().Match(text) is { Success: true } m && (m.Groups["ep"].Success || m.Groups["it"].Success);

    public static bool TryParse(string? text, out StepSpec spec)
    {
        spec = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = Pattern().Match(text);
        if (!match.Success || (!match.Groups["ep"].Success && !match.Groups["it"].Success)) return false;
        long epochs = 0, iterations = 0;
        if (match.Groups["ep"].Success && !(long.TryParse(match.Groups["ep"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out epochs) && epochs <= MaxEpochs)) return false;
        if (match.Groups["it"].Success && !(long.TryParse(match.Groups["it"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out iterations) && iterations <= MaxIterations)) return false;
        spec = new StepSpec(epochs, iterations);
        return true;
    }

    // Checked: a spec built in code past the parser's bounds fails instead of wrapping around.
    public Step ToStep(int iterationsPerEpoch) => new(checked(Epochs * iterationsPerEpoch + Iterations), iterationsPerEpoch);

    public bool IsZero => Epochs == 0 && Iterations == 0;

    /// <summary>Canonical text: <c>160ep</c>, <c>500it</c>, <c>2ep100it</c>, <c>0it</c>.</summary>
    public override string ToString() => (Epochs, Iterations) switch
    {
        (0, var it) => $"{it}it",
        (var ep, 0) => $"{ep}ep",
        var (ep, it) => $"{ep}ep{it}it",
    };
}
