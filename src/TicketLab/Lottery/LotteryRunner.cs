using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Lottery;

public sealed record LevelResult(int Level, double Density, TrainingSummary Summary);

/// <summary>
/// Iterative magnitude pruning with rewinding. Level 0 trains the dense network (saving the
/// rewind state); level L prunes level L-1's trained weights, rewinds survivors to the rewind
/// state, and retrains from the rewind step. Every level lives in its own run folder, so
/// finished levels are skipped and an interrupted level resumes from its checkpoint.
/// </summary>
public static class LotteryRunner
{
    public static IReadOnlyList<LevelResult> Run(LotteryDesc desc, int replicate, int levels, RunOptions options, RunContext context) =>
        Run(desc, [replicate], levels, options, context)[0];

    /// <summary>
    /// IMP of several replicates side by side: level L of every replicate trains in one go, as one
    /// stacked model where the architecture allows (<see cref="StackedTraining"/>, up to
    /// <see cref="RunOptions.NetworksPerProcess"/> at once). Each replicate's levels, files and
    /// results are those of its own run; the results come in the order of <paramref name="replicates"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<LevelResult>> Run(LotteryDesc desc, IReadOnlyList<int> replicates, int levels, RunOptions options, RunContext context)
    {
        desc.Validate();
        if (desc.Lottery.OneShotSparsity is not null) levels = Math.Min(levels, 1);
        var layouts = replicates.Select(r => Layout(context, desc, r)).ToArray();
        var lotteryJson = new JsonObject { ["lottery_run"] = desc.RunName, ["lottery"] = desc.ToJson() };
        // Loads the data first (a run that cannot start writes nothing) and refuses, before level 0
        // trains, a rewind step that later levels could never train from.
        desc.Training.RequireBeforeEnd(desc.Lottery.RewindStep, IterationsPerEpoch(desc.Training, context), "--rewind-step");
        EffectiveRates(desc, context); // a pruning flag that cannot take effect is refused before level 0 trains
        using (var skeleton = Skeleton(desc.Training, context))
            PruningRates.From(desc.Pruning, skeleton, desc.Lottery.OneShotSparsity ?? desc.Pruning.PruningFraction)
                .RequireWeightsLeft(skeleton, levels, FractionFlag(desc));
        foreach (var layout in layouts)
        {
            // Levels extend level 0: all train on its data (a later level on other files would read as a pruning effect).
            TrainingRunner.RequireRecordedData(layout.Main(0), desc.Training, context);
            Directory.CreateDirectory(layout.Path);
            AtomicFile.WriteJson(Path.Combine(layout.Path, "lottery.json"), lotteryJson);
        }

        var results = replicates.Select(_ => new List<LevelResult>()).ToArray();
        var pruning = Enumerable.Range(0, replicates.Count).ToList(); // the replicates whose IMP goes on
        for (int level = 0; level <= levels && pruning.Count > 0; level++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var levelOptions = level == 0 ? options with { SaveSteps = [.. options.SaveSteps, desc.Lottery.RewindStep] } : options;
            var masks = new List<Mask>();
            var rewound = new List<Dictionary<string, Tensor>>();
            try
            {
                var jobs = pruning.Select(i => LevelJob(desc, layouts[i], replicates[i], level, context, masks, rewound)).ToArray();
                var summaries = StackedTraining.TrainAll(jobs, levelOptions, context);
                for (int k = 0; k < jobs.Length; k++)
                {
                    int i = pruning[k];
                    var summary = summaries[k];
                    double density = masks[k].Density;
                    results[i].Add(new LevelResult(level, density, summary));
                    string who = replicates.Count > 1 ? $"replicate {replicates[i]}, " : "";
                    // A diverged level ends its replicate's IMP: later levels prune this level's trained weights, which do not exist.
                    context.Log.WriteLine(summary.Diverged
                        ? FormattableString.Invariant($"{who}level {level}: {100 * density:F1}% of prunable weights remain, {summary.DivergenceText}; later levels are not run.")
                        : FormattableString.Invariant($"{who}level {level}: {100 * density:F1}% of prunable weights remain, test accuracy {summary.FinalTestAccuracy:P2}{(summary.AlreadyFinished ? " (already finished)" : "")}"));
                }
                pruning.RemoveAll(i => results[i][^1].Summary.Diverged);
            }
            finally
            {
                foreach (var mask in masks) mask.Dispose();
                foreach (var t in rewound.SelectMany(r => r.Values)) t.Dispose();
            }
        }
        return results;
    }

    /// <summary>
    /// The training of one replicate's level: level 0 from scratch; a later level rewound to the
    /// rewind state under its mask (made now from the previous level, or read back). The mask and
    /// rewound weights it holds go to <paramref name="masks"/> and <paramref name="rewound"/>, to be
    /// disposed once the level has trained.
    /// </summary>
    private static TrainingJob LevelJob(LotteryDesc desc, LotteryLayout layout, int replicate, int level, RunContext context,
        List<Mask> masks, List<Dictionary<string, Tensor>> rewound)
    {
        var folder = layout.Main(level);
        var mask = level == 0 ? DenseMask(desc, context) : NextMask(desc, layout, level, context);
        masks.Add(mask);
        if (!File.Exists(layout.MaskPath(level))) mask.Save(layout.MaskPath(level), layout.MaskSummaryPath(level));
        var extra = new JsonObject { ["level"] = level, ["density"] = mask.Density, ["lottery_run"] = desc.RunName };
        var training = desc.TrainingAt(level, replicate);
        if (level == 0) return new TrainingJob(folder, training, replicate, new TrainingStart { Inputs = layout.MaskInputs(0) }, extra);

        var repellence = TrainingSummary.Read(folder) is null ? Repellence.For(desc, level, mask, layout.Main) : null;
        if (repellence is { } repelled) extra["repellent_loss"] = repelled.Record;
        var state = RewindState(layout, desc, context);
        rewound.Add(state);
        var start = new TrainingStart
        {
            InitialState = state,
            StartStep = desc.Lottery.RewindStep,
            Constraint = model => new MaskConstraint(model, mask),
            LossTerm = repellence?.Term,
            Inputs = [.. layout.MaskInputs(level), new(layout.Main(level - 1), layout.Main(level - 1).FinalModelPath), RewindInput(layout, desc, context)],
        };
        return new TrainingJob(folder, training, replicate, start, extra);
    }

    public static LotteryLayout Layout(RunContext context, LotteryDesc desc, int replicate) =>
        new(context.Store.ReplicateFolder(desc.RunName, replicate));

    /// <summary>The pruning rates each tensor gets in this run, as the run banner shows them.</summary>
    public static string EffectiveRates(LotteryDesc desc, RunContext context)
    {
        using var model = Skeleton(desc.Training, context);
        return PruningRates.From(desc.Pruning, model, desc.Lottery.OneShotSparsity ?? desc.Pruning.PruningFraction).Describe(model);
    }

    /// <summary>A model of the run's architecture, for names and shapes (weights are not used).</summary>
    public static TicketModel Skeleton(TrainingDesc desc, RunContext context) => ModelRegistry.Create(desc.Model, InputOf(desc, context), 0);

    /// <summary>Input shape and classes of the run's dataset.</summary>
    public static InputSpec InputOf(TrainingDesc desc, RunContext context) =>
        InputSpec.Of(context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device).Train);

    public static int IterationsPerEpoch(TrainingDesc desc, RunContext context) =>
        TrainingBatches.IterationsPerEpochOf(
            context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device).Train.Count, desc.Dataset.BatchSize);

    private static Mask DenseMask(LotteryDesc desc, RunContext context)
    {
        using var model = Skeleton(desc.Training, context);
        return Mask.Ones(model);
    }

    /// <summary>The mask of a level: read back if it was made before, else pruned from the previous level.</summary>
    public static Mask MaskOf(LotteryLayout layout, int level, LotteryDesc desc, RunContext context)
    {
        if (File.Exists(layout.MaskPath(level))) return layout.LoadMask(level);
        if (level == 0) return DenseMask(desc, context);
        throw new InvalidDataException($"{layout.MaskPath(level)} does not exist: level {level} of this lottery run has not been reached yet.");
    }

    private static Mask NextMask(LotteryDesc desc, LotteryLayout layout, int level, RunContext context)
    {
        if (File.Exists(layout.MaskPath(level))) return layout.LoadMask(level);
        var previous = layout.Main(level - 1);
        if (TrainingSummary.Read(previous) is not { } previousSummary)
            throw new InvalidDataException($"{previous.Path}: level {level - 1} has not finished; run `ticketlab lottery` with --levels {level - 1} first.");
        previousSummary.RequireConverged($"Level {level - 1} of {desc.RunName}, which level {level} would prune,");
        using var previousMask = MaskOf(layout, level - 1, desc, context);
        var trained = previous.LoadTensors(previous.FinalModelPath);
        try
        {
            using var model = Skeleton(desc.Training, context);
            RequireConsistent(previous, previousMask, trained);
            return Pruner.Next(desc.Pruning, model, trained, previousMask, desc.Lottery.OneShotSparsity ?? desc.Pruning.PruningFraction, FractionFlag(desc));
        }
        finally
        {
            foreach (var t in trained.Values) t.Dispose();
        }
    }

    private static string FractionFlag(LotteryDesc desc) => desc.Lottery.OneShotSparsity is null ? "--pruning-fraction" : "--one-shot-sparsity";

    /// <summary>Level 0's weights at the rewind step: the values surviving weights go back to.</summary>
    public static Dictionary<string, Tensor> RewindState(LotteryLayout layout, LotteryDesc desc, RunContext context)
    {
        var step = desc.Lottery.RewindStep.ToStep(IterationsPerEpoch(desc.Training, context));
        string path = layout.Main(0).ModelPath(step);
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: the dense run has no saved state at the rewind step {desc.Lottery.RewindStep}.");
        return layout.Main(0).LoadTensors(path);
    }

    /// <summary>Level 0's saved state at the rewind step, as an input of the runs that start from it.</summary>
    public static RunInput RewindInput(LotteryLayout layout, LotteryDesc desc, RunContext context) =>
        new(layout.Main(0), layout.Main(0).ModelPath(desc.Lottery.RewindStep.ToStep(IterationsPerEpoch(desc.Training, context))));

    /// <summary>
    /// A trained level must agree with its mask, whatever the store's age: the density its run recorded,
    /// and no weight left outside the mask (a mask from another level, or weights from another run, break both).
    /// </summary>
    private static void RequireConsistent(RunFolder level, Mask mask, IReadOnlyDictionary<string, Tensor> trained)
    {
        if (level.ReadHparams()?["density"] is JsonValue recorded && recorded.TryGetValue(out double density) && Math.Abs(density - mask.Density) > 1e-9)
            throw new RunIntegrityException(FormattableString.Invariant(
                $"{mask.Source}: keeps {100 * mask.Density:F2}% of the weights, but its run ({level.HparamsPath}) trained with {100 * density:F2}%: the mask belongs to another level. Put the level's own mask back, or delete {level.Path} and run the command again."));
        foreach (string name in mask.Names)
        {
            if (!trained.TryGetValue(name, out var weight)) continue;
            using var outside = weight.ne(0).logical_and(mask[name].to(weight.device).eq(0)).sum();
            long count = outside.item<long>();
            if (count > 0)
                throw new RunIntegrityException(
                    $"{level.FinalModelPath}: {count} weights of '{name}' are non-zero where {mask.Source} prunes them: the weights and the mask belong to different runs. Put the level's own files back, or delete {level.Path} and run the command again.");
        }
    }
}
