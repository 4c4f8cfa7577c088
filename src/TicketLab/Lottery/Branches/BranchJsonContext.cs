using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using TicketLab.Hyperparameters;

namespace TicketLab.Lottery.Branches;

/// <summary>JSON metadata of the branches' hyperparameter records, generated at compile time, registered with <see cref="HparamJson"/> when the library loads.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(RandomReinitHparams))]
[JsonSerializable(typeof(RandomPruneHparams))]
[JsonSerializable(typeof(RetrainHparams))]
[JsonSerializable(typeof(PruningSolutionHparams))]
internal sealed partial class BranchJsonContext : JsonSerializerContext
{
#pragma warning disable CA2255 // the library's own registration, before any record is written
    [ModuleInitializer]
    internal static void Register() => HparamJson.AddResolver(Default);
#pragma warning restore CA2255
}
