using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;

namespace TicketLab.Lottery;

/// <summary>
/// Everything that determines an IMP experiment's results: the training recipe, the pruning
/// rule and the rewind point. Its hash names <c>lottery_&lt;hash&gt;</c>; the number of levels is
/// not part of it, so running more levels later extends the same experiment.
/// </summary>
public sealed record LotteryDesc(TrainingDesc Training, PruningHparams Pruning, LotteryHparams Lottery)
{
    public const string Prefix = "lottery";

    public void Validate()
    {
        Training.Validate();
        Pruning.Validate();
        Lottery.Validate();
        TicketLab.Pruning.PruningStrategyRegistry.Get(Pruning.PruningStrategy);
    }

    public JsonObject ToJson()
    {
        var json = Training.ToJson();
        json["pruning"] = HparamJson.ToJson(Pruning);
        json["lottery"] = HparamJson.ToJson(Lottery);
        return json;
    }

    public static LotteryDesc FromJson(JsonNode node) => new(
        TrainingDesc.FromJson(node),
        HparamJson.FromJson<PruningHparams>(node["pruning"]!),
        HparamJson.FromJson<LotteryHparams>(node["lottery"]!));

    public JsonObject NameKey()
    {
        var key = Training.NameKey();
        key["pruning"] = HparamJson.NonDefault(Pruning);
        key["lottery"] = HparamJson.NonDefault(Lottery);
        return key;
    }

    public string RunName => ExperimentName.Of(Prefix, NameKey());

    /// <summary>
    /// The recipe level <paramref name="level"/> trains with (its branches too): the run's recipe,
    /// with level L's own data order when levels do not share one. The seed is level 0's plus a
    /// large prime times L, a stream apart from the replicate numbers that seed level 0.
    /// </summary>
    public TrainingDesc TrainingAt(int level, int replicate) =>
        Lottery.LevelDataOrder == LevelDataOrder.Shared || level == 0
            ? Training
            : Training with { Training = Training.Training with { DataOrderSeed = LevelDataOrderSeed(Training, replicate, level) } };

    public static int LevelDataOrderSeed(TrainingDesc training, int replicate, int level) =>
        unchecked(TicketLab.Training.TrainingRunner.DataOrderSeed(training, replicate) + LevelSeedStride * level);

    private const int LevelSeedStride = 10_000_019;
}

/// <summary>Folder layout of a lottery run: <c>lottery_&lt;hash&gt;/replicate_N/level_L/main</c> and branches beside main.</summary>
public sealed class LotteryLayout(string replicateFolder)
{
    public string Path { get; } = System.IO.Path.GetFullPath(replicateFolder);
    public string LevelFolder(int level) => System.IO.Path.Combine(Path, $"level_{level}");
    public Store.RunFolder Main(int level) => new(System.IO.Path.Combine(LevelFolder(level), "main"));
    public string MaskPath(int level) => System.IO.Path.Combine(LevelFolder(level), "main", "mask.bin");
    public string MaskSummaryPath(int level) => System.IO.Path.Combine(LevelFolder(level), "main", "mask.json");
    public Store.RunFolder Branch(int level, string branchFolderName) => new(System.IO.Path.Combine(LevelFolder(level), branchFolderName));

    /// <summary>A level's mask, checked against the manifest of the level's run (a mask swapped with another level's is refused).</summary>
    public Pruning.Mask LoadMask(int level) => Pruning.Mask.Load(Main(level).Verified(MaskPath(level)));

    /// <summary>A level's mask files, as inputs of the runs trained with it.</summary>
    public IReadOnlyList<Store.RunInput> MaskInputs(int level) => [new(Main(level), MaskPath(level)), new(Main(level), MaskSummaryPath(level))];

    public IEnumerable<int> Levels() =>
        Directory.Exists(Path)
            ? Directory.EnumerateDirectories(Path, "level_*")
                .Select(d => int.TryParse(System.IO.Path.GetFileName(d)["level_".Length..], out int l) ? l : -1)
                .Where(l => l >= 0).Order()
            : [];
}
