using System.Text.Json.Nodes;

namespace TicketLab.Experiments;

/// <summary>One hyperparameter of a recipe: its dotted path (<c>training.lr</c>) and its JSON value (null for JSON null).</summary>
public sealed record HparamSetting(string Path, JsonNode? Value)
{
    /// <summary>The recipe does not have this setting at all (an older recipe, another kind of experiment).</summary>
    public bool Absent { get; init; }

    /// <summary>The value as a legend or table shows it: <c>0.05</c>, <c>100it</c>, <c>none</c> for null, <c>-</c> when absent.</summary>
    public string Text => Absent ? "-" : Value?.ToJsonString().Trim('"') ?? "none";
}

/// <summary>
/// What tells experiments apart: the hyperparameters whose values are not the same in all of them.
/// Legends, <c>report --compare</c> and <c>list</c> label experiments by these, never by hashes.
/// </summary>
public static class HparamDifferences
{
    /// <summary>
    /// Settings that name or locate a run rather than set it (its name, the replicate, the data files'
    /// paths and checksums, the names of the runs it comes from): never differences.
    /// </summary>
    public static bool IsBookkeeping(string key) =>
        key is "run_name" or "replicate" or "data_files" or "folder" || key.EndsWith("_run", StringComparison.Ordinal);

    /// <summary>A recipe's leaves by dotted path (<c>training.lr</c>), bookkeeping left out; arrays are leaves. Empty for null.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> Flatten(JsonObject? recipe)
    {
        var leaves = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        void Walk(string prefix, JsonObject node)
        {
            foreach (var (key, value) in node)
            {
                if (IsBookkeeping(key)) continue;
                string path = prefix.Length == 0 ? key : $"{prefix}.{key}";
                if (value is JsonObject group) Walk(path, group);
                else leaves[path] = value;
            }
        }
        if (recipe is not null) Walk("", recipe);
        return leaves;
    }

    /// <summary>
    /// For each recipe, in order, the settings whose values differ among the recipes (sorted by path). A setting
    /// one recipe lacks counts as differing. Unreadable recipes (null) get no differences and take no part.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<HparamSetting>> Of(IReadOnlyList<JsonObject?> recipes)
    {
        var flat = recipes.Select(r => r is null ? null : Flatten(r)).ToArray();
        var readable = flat.Where(f => f is not null).Select(f => f!).ToArray();
        var differing = readable.SelectMany(f => f.Keys).Distinct().Order(StringComparer.Ordinal)
            .Where(key => readable.Select(f => f.GetValueOrDefault(key)).Distinct(JsonNodeComparer.Instance).Skip(1).Any()
                || readable.Any(f => !f.ContainsKey(key)))
            .ToArray();
        return flat.Select(f => f is null
            ? (IReadOnlyList<HparamSetting>)[]
            : differing.Select(key => new HparamSetting(key, f.GetValueOrDefault(key)) { Absent = !f.ContainsKey(key) }).ToArray()).ToArray();
    }

    /// <summary>
    /// A short label from differences: <c>lr=0.05, warmup_steps=100it</c>. Each setting goes by its last
    /// name, or by its whole path where two differing settings share a last name (<c>training.lr</c>).
    /// </summary>
    public static string Label(IReadOnlyList<HparamSetting> differences)
    {
        var names = differences.Select(d => ShortName(d.Path, differences)).ToArray();
        return string.Join(", ", differences.Select((d, i) => $"{names[i]}={d.Text}"));
    }

    /// <summary>The last part of a dotted path, unless another of <paramref name="among"/> ends the same way.</summary>
    public static string ShortName(string path, IEnumerable<HparamSetting> among)
    {
        string last = path[(path.LastIndexOf('.') + 1)..];
        return among.Count(o => o.Path == last || o.Path.EndsWith("." + last, StringComparison.Ordinal)) > 1 ? path : last;
    }

    private sealed class JsonNodeComparer : IEqualityComparer<JsonNode?>
    {
        public static readonly JsonNodeComparer Instance = new();
        public bool Equals(JsonNode? x, JsonNode? y) => JsonNode.DeepEquals(x, y);
        public int GetHashCode(JsonNode? node) => node?.ToJsonString().GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
