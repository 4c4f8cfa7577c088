using System.Text.Json.Nodes;
using TicketLab.Foundations;

namespace TicketLab.Foundations;

/// <summary>
/// The one naming rule of the store: <c>&lt;kind&gt;_&lt;hash&gt;</c>, the hash being the first
/// 16 hex digits of the SHA-256 of the canonical JSON of what determines the result (for
/// hyperparameter bundles, their non-default fields only, so a new hyperparameter at its default
/// never renames existing results).
/// </summary>
public static class ExperimentName
{
    public const int HashLength = 16;

    public static string Hash(JsonNode key) => CanonicalJson.Sha256Hex(CanonicalJson.Serialize(key))[..HashLength];

    public static string Of(string kind, JsonNode key) => $"{kind}_{Hash(key)}";
}
