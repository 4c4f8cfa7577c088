using System.Text.Json.Serialization;
using TicketLab.Lottery.Branches;

namespace TicketLab.Hyperparameters;

/// <summary>
/// JSON metadata of every hyperparameter bundle, generated at compile time (System.Text.Json source
/// generation), so that hparams.json and the hashes need no reflection-based serialization. Apps
/// that turn reflection-based JSON off, such as .NET 10 file-based apps (<c>dotnet run app.cs</c>) and
/// trimmed builds, can use the library. A new bundle is listed here; a test checks every
/// <see cref="IHparams"/> record of the library is.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(DatasetHparams))]
[JsonSerializable(typeof(ModelHparams))]
[JsonSerializable(typeof(TrainingHparams))]
[JsonSerializable(typeof(PruningHparams))]
[JsonSerializable(typeof(LotteryHparams))]
[JsonSerializable(typeof(RandomReinitHparams))]
[JsonSerializable(typeof(RandomPruneHparams))]
[JsonSerializable(typeof(RetrainHparams))]
[JsonSerializable(typeof(PruningSolutionHparams))]
[JsonSerializable(typeof(Analysis.InterpolationOptions))]
[JsonSerializable(typeof(Analysis.LayerDensityHparams))]
[JsonSerializable(typeof(Training.RunHparams))]
internal sealed partial class HparamJsonContext : JsonSerializerContext;
