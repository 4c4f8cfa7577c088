using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using TicketLab.Hyperparameters;

namespace TicketLab.Experiments;

/// <summary>JSON metadata of the experiment kinds' and level analyses' hyperparameter records, generated at compile time, registered with <see cref="HparamJson"/> when the library loads.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(LevelAnalyses.LayerDensityHparams))]
[JsonSerializable(typeof(LevelAnalyses.RoundDistancesHparams))]
[JsonSerializable(typeof(LevelAnalyses.RoundBarriersHparams))]
[JsonSerializable(typeof(LevelAnalyses.WeightHistogramsHparams))]
[JsonSerializable(typeof(Kinds.LotteryRunHparams))]
[JsonSerializable(typeof(Kinds.InstabilityHparams))]
[JsonSerializable(typeof(Kinds.RewindSweepHparams))]
[JsonSerializable(typeof(NoHparams))]
internal sealed partial class ExperimentJsonContext : JsonSerializerContext
{
#pragma warning disable CA2255 // the library's own registration, before any record is written
    [ModuleInitializer]
    internal static void Register() => HparamJson.AddResolver(Default);
#pragma warning restore CA2255
}
