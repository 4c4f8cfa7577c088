using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TicketLab.Foundations;

/// <summary>
/// Canonical JSON (sorted keys, invariant numbers) and the SHA-256 names derived from it.
/// Hyperparameter bundles are hashed with their default-valued fields left out, so adding a
/// new hyperparameter at its default never renames existing results.
/// </summary>
public static class CanonicalJson
{
    /// <summary>Serializes with keys sorted recursively.</summary>
    public static string Serialize(JsonNode? node, bool indented = false)
    {
        var sorted = Sort(node);
        return sorted?.ToJsonString(new JsonSerializerOptions { WriteIndented = indented }) ?? "null";
    }

    public static string Sha256Hex(string text)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToHexStringLower(hash);
    }

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Sort).ToArray()),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };
}

public sealed class StepSpecJsonConverter : System.Text.Json.Serialization.JsonConverter<StepSpec>
{
    public override StepSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        StepSpec.Parse(reader.GetString() ?? throw new JsonException("A step must be a string such as 160ep."));

    public override void Write(Utf8JsonWriter writer, StepSpec value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
