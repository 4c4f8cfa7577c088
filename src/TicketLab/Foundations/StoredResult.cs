using System.Text.Json.Nodes;

namespace TicketLab.Foundations;

/// <summary>A result stored as JSON and read back typed: what a level analysis writes to <c>level_L.json</c>.</summary>
public interface IStoredResult<TSelf> where TSelf : IStoredResult<TSelf>
{
    JsonObject ToJson();
    static abstract TSelf FromJson(JsonNode json);
}
