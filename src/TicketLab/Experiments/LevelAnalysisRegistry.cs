using System.Text.Json.Nodes;
using TicketLab.Experiments.LevelAnalyses;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Training;

namespace TicketLab.Experiments;

/// <summary>Every level analysis. Adding one: a class deriving from <see cref="LevelAnalysis{THparams, TResult}"/> and a line here (or <see cref="Register"/> from another assembly).</summary>
public static class LevelAnalysisRegistry
{
    private static readonly Lock Gate = new();
    private static IReadOnlyList<ILevelAnalysis> all =
    [
        new LayerDensityAnalysis(),
        new CompareAnalysis(),
        new RoundDistancesAnalysis(),
        new RoundBarriersAnalysis(),
        new PruningThresholdsAnalysis(),
        new WeightHistogramsAnalysis(),
    ];

    public static IReadOnlyList<ILevelAnalysis> All => all;

    /// <summary>Adds an analysis defined outside the library (a plug-in, a test), before the CLI is built. Its name must be new.</summary>
    public static void Register(ILevelAnalysis analysis)
    {
        lock (Gate)
        {
            if (all.Any(a => a.Name == analysis.Name && a.GetType() == analysis.GetType())) return;
            if (all.Any(a => a.Name == analysis.Name)) throw new ArgumentException($"a level analysis named '{analysis.Name}' is already registered.");
            all = [.. all, analysis];
        }
    }

    /// <summary>Takes back an analysis added with <see cref="Register"/> (tests that add one put the registry back as it was).</summary>
    public static void Unregister(string name)
    {
        lock (Gate) all = [.. all.Where(a => a.Name != name)];
    }

    public static ILevelAnalysis Get(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new HparamException("analysis", $"unknown analysis '{name}'. Known: {string.Join(", ", All.Select(a => a.Name))}.");

    /// <summary>Runs an analysis on one level of a lottery run whose level has finished (or reads its stored result).</summary>
    public static JsonObject Run(ILevelAnalysis analysis, IHparams hparams, LotteryDesc lottery, int replicate, int level, RunOptions options, RunContext context) =>
        analysis.Run(new LevelAnalysisJob(lottery, replicate, level, LotteryRunner.Layout(context, lottery, replicate), options, context), hparams);
}
