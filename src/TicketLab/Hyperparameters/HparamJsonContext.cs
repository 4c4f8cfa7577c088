using System.Text.Json.Serialization;

namespace TicketLab.Hyperparameters;

/// <summary>
/// JSON metadata of every hyperparameter bundle, generated at compile time (System.Text.Json source
/// generation), so that hparams.json and the hashes need no reflection-based serialization. Apps
/// that turn reflection-based JSON off, such as .NET 10 file-based apps (<c>dotnet run app.cs</c>) and
/// trimmed builds, can use the library. This context lists this folder's records; every other
/// folder lists its own in a context of its own, registered with <see cref="HparamJson.AddResolver"/>
/// (a test checks every <see cref="IHparams"/> record of the library is serializable).
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
internal sealed partial class HparamJsonContext : JsonSerializerContext;
