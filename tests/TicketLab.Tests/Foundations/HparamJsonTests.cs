using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Hyperparameters;

namespace TicketLab.Tests.Foundations;

/// <summary>
/// Bundles are serialized from source-generated metadata, not by reflection: every bundle must be
/// known to it, and every enum must keep its snake_case spelling (a missing converter would write
/// a number and rename results). This test project runs with reflection-based JSON turned off
/// (Directory.Build.props), so every other test checks the same.
/// </summary>
public sealed class HparamJsonTests
{
    public static TheoryData<Type> Bundles() =>
        [.. typeof(IHparams).Assembly.GetTypes().Where(t => typeof(IHparams).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })];

    [Fact]
    public void Reflection_based_json_is_off_in_this_process()
    {
        Assert.False(JsonSerializer.IsReflectionEnabledByDefault);
    }

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Every_bundle_round_trips_without_reflection(Type bundle)
    {
        object defaults = Activator.CreateInstance(bundle)!;
        JsonObject json = HparamJson.ToJson(defaults);
        // Fields, and nested bundles (groups) that are set, by their snake_case names; nothing else.
        var groups = HparamField.GroupsOf(bundle).Select(g => JsonNamingPolicy.SnakeCaseLower.ConvertName(g.Property.Name));
        Assert.Equal(HparamField.Of(bundle).Select(f => f.Name).Concat(groups).Where(json.ContainsKey).Order(), json.Select(p => p.Key).Order());
        var read = typeof(HparamJson).GetMethod(nameof(HparamJson.FromJson))!.MakeGenericMethod(bundle);
        object back = read.Invoke(null, [JsonNode.Parse(json.ToJsonString())!])!;
        Assert.Equal(json.ToJsonString(), HparamJson.ToJson(back).ToJsonString());
    }

    [Theory]
    [MemberData(nameof(Bundles))]
    public void Every_enum_hyperparameter_is_written_as_its_snake_case_name(Type bundle)
    {
        foreach (var field in HparamField.Of(bundle))
        {
            var type = Nullable.GetUnderlyingType(field.ValueType) ?? field.ValueType;
            if (!type.IsEnum) continue;
            foreach (var value in Enum.GetValues(type))
            {
                object changed = field.With(Activator.CreateInstance(bundle)!, value);
                var written = HparamJson.ToJson(changed)[field.Name]!;
                Assert.Equal(JsonValueKind.String, written.GetValueKind());
                Assert.Equal(field.Format(value), (string)written!);
            }
        }
    }
}
