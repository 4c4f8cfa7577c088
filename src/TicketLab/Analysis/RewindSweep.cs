using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Training;

namespace TicketLab.Analysis;

/// <summary>A rewind sweep (Frankle et al. 2020, Fig. 3): instability analysis from each of several start steps of one recipe, the copies sharing one parent run per replicate.</summary>
public static class RewindSweep
{
    /// <summary>
    /// Instability from each start step. Every step is checked against the end of training before
    /// anything trains; one parent run per replicate reaches the last step, saving every step on the way.
    /// </summary>
    public static IReadOnlyList<SweepRow> Run(TrainingDesc training, IReadOnlyList<StepSpec> steps, IReadOnlyList<int> replicates,
        InterpolationOptions interpolation, RunOptions options, RunContext context)
    {
        int perEpoch = LotteryRunner.IterationsPerEpoch(training, context);
        foreach (var step in steps) training.RequireBeforeEnd(step, perEpoch, "--steps");
        var saved = steps.Where(s => !s.IsZero).ToArray();
        string parent = ParentRunName(training, saved);
        return steps.Select(step => new SweepRow(step, replicates.Select(r =>
            InstabilityAnalysis.Run(InstabilityStart.FromTraining(training, step) with { SharedParentRun = parent, SharedParentSteps = saved },
                r, interpolation, options, context)).ToArray())).ToArray();
    }

    /// <summary><c>rewind_parent_&lt;hash&gt;</c>: the recipe and the steps it saves.</summary>
    public static string ParentRunName(TrainingDesc training, IReadOnlyList<StepSpec> steps) =>
        ExperimentName.Of("rewind_parent", new JsonObject
        {
            ["training_run"] = training.RunName,
            ["steps"] = new JsonArray(steps.Select(s => s.ToString()).Order(StringComparer.Ordinal).Select(s => (JsonNode)s).ToArray()),
        });

    /// <summary>The sweep's file name: every setting that changes its numbers (recipe, steps, replicates, interpolation).</summary>
    public static string FileName(TrainingDesc training, IReadOnlyList<StepSpec> steps, int replicates, InterpolationOptions interpolation)
    {
        var key = new JsonObject
        {
            ["training_run"] = training.RunName,
            ["steps"] = new JsonArray(steps.Select(s => (JsonNode)s.ToString()).ToArray()),
            ["replicates"] = replicates,
            ["interpolation"] = HparamJson.NonDefault(interpolation),
        };
        return ExperimentName.Of("rewind_sweep", key) + ".json";
    }

    /// <summary>The file name TicketLab gave a sweep before names took the interpolation's non-default fields only.</summary>
    public static string LegacyFileName(TrainingDesc training, IReadOnlyList<StepSpec> steps, int replicates, InterpolationOptions interpolation)
    {
        var key = new JsonObject
        {
            ["training_run"] = training.RunName,
            ["steps"] = new JsonArray(steps.Select(s => (JsonNode)s.ToString()).ToArray()),
            ["replicates"] = replicates,
            ["interpolation"] = interpolation.ToJson(),
        };
        return ExperimentName.Of("rewind_sweep", key) + ".json";
    }
}
