using System.Globalization;
using System.Text.Json.Nodes;

namespace TicketLab.Analysis;

/// <summary>A verdict states its answer, the rule it applied, and the numbers beside it (the control and the noise floor included).</summary>
public enum Answer { Yes, No, Inconclusive }

public sealed record Verdict(Answer Answer, string Rule, string Evidence)
{
    public string Text => Answer.ToString().ToLowerInvariant();

    /// <summary>What a reader should know before trusting the numbers (endpoints of different quality, a single replicate).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The pooled numbers the rule compared, by name ("T-P", "noise floor T-T2", ...), for --json and tests.</summary>
    public IReadOnlyDictionary<string, Spread> Numbers { get; init; } = new Dictionary<string, Spread>();

    /// <summary>How many replicates the verdict pools.</summary>
    public int Replicates { get; init; } = 1;

    /// <summary>The evidence with the warnings after it, for one table cell.</summary>
    public string EvidenceWithWarnings => Warnings.Count == 0 ? Evidence : $"{Evidence}. Warning: {string.Join("; ", Warnings)}";

    public JsonObject ToJson() => new()
    {
        ["answer"] = Text, ["rule"] = Rule, ["evidence"] = Evidence, ["replicates"] = Replicates,
        ["warnings"] = new JsonArray(Warnings.Select(w => (JsonNode)JsonValue.Create(w)).ToArray()),
        ["numbers"] = new JsonObject(Numbers.Select(n => KeyValuePair.Create(n.Key, (JsonNode?)n.Value.ToJson()))),
    };
}

/// <summary>One measure over replicates: its smallest, mean and largest value.</summary>
public sealed record Spread(double Min, double Mean, double Max)
{
    public double Range => Max - Min;

    public static Spread Of(IEnumerable<double> values)
    {
        var all = values.ToArray();
        if (all.Length == 0) throw new ArgumentException("a spread needs at least one value", nameof(values));
        return new Spread(all.Min(), all.Average(), all.Max());
    }

    /// <summary>"0.123" for one replicate, "0.123 [0.110-0.140]" for several, each value through <paramref name="format"/>.</summary>
    public string Text(Func<double, string> format) => Range == 0 ? format(Mean) : $"{format(Mean)} [{format(Min)}-{format(Max)}]";

    public JsonObject ToJson() => new() { ["min"] = Min, ["mean"] = Mean, ["max"] = Max };

    public static string Points(double value) => (100 * value).ToString("F2", CultureInfo.InvariantCulture) + " pts";
    public static string Angle(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
