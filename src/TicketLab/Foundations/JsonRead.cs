using System.Text.Json;
using System.Text.Json.Nodes;

namespace TicketLab.Foundations;

/// <summary>
/// Typed reading of the store's JSON files. A wrong type, an array for an object or a missing key
/// is an <see cref="InvalidDataException"/> that names the file and the key, never a cast failure.
/// </summary>
public static class JsonRead
{
    /// <summary>Parses a file that must hold a JSON object; null when the file does not exist.</summary>
    public static JsonObject? ObjectFile(string path)
    {
        if (!File.Exists(path)) return null;
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw Damaged(path, $"not valid JSON ({e.Message})");
        }
        return node as JsonObject ?? throw Damaged(path, $"holds {Kind(node)}, expected a JSON object");
    }

    public static double Number(JsonObject json, string key, string path) => NumberOrNull(json, key, path) ?? throw Damaged(path, $"'{key}' is missing");

    /// <summary>A number, or null when the key is absent or null (how NaN is stored).</summary>
    public static double? NumberOrNull(JsonObject json, string key, string path) => json[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
        var other => throw Damaged(path, $"'{key}' must be a number, got {other.ToJsonString()}"),
    };

    public static long Integer(JsonObject json, string key, string path)
    {
        double value = Number(json, key, path);
        if (value != Math.Floor(value) || Math.Abs(value) > 1L << 53) throw Damaged(path, $"'{key}' must be a whole number, got {value}");
        return (long)value;
    }

    public static string? StringOrNull(JsonObject json, string key, string path) => json[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Damaged(path, $"'{key}' must be a string, got {other.ToJsonString()}"),
    };

    public static bool Boolean(JsonObject json, string key, string path, bool missing = false) => json[key] switch
    {
        null => missing,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw Damaged(path, $"'{key}' must be true or false, got {other.ToJsonString()}"),
    };

    public static JsonObject Object(JsonObject json, string key, string path) =>
        json[key] as JsonObject ?? throw Damaged(path, json[key] is null ? $"'{key}' is missing" : $"'{key}' must be an object, got {Kind(json[key])}");

    /// <summary>The store holds a file it cannot use: say which, what is wrong, and how to get a good one back.</summary>
    public static InvalidDataException Damaged(string path, string problem) =>
        new($"{path}: {problem}. The file is damaged; delete its run folder and run the command again to recompute it.");

    private static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "an array",
        JsonObject => "an object",
        _ => node.GetValueKind().ToString().ToLowerInvariant(),
    };
}
