using System.Text.Json.Nodes;
using TicketLab.Foundations;

namespace TicketLab.Hyperparameters;

/// <summary>
/// Everything that determines a training run's result. Its hash, over non-default values only,
/// names the run's folder in the experiment store.
/// </summary>
public sealed record TrainingDesc(DatasetHparams Dataset, ModelHparams Model, TrainingHparams Training)
{
    public TrainingDesc() : this(new DatasetHparams(), new ModelHparams(), new TrainingHparams()) { }

    public const string Prefix = "train";

    public void Validate()
    {
        Dataset.Validate();
        Model.Validate();
        Training.Validate();
    }

    public JsonObject ToJson() => new()
    {
        ["dataset"] = HparamJson.ToJson(Dataset),
        ["model"] = HparamJson.ToJson(Model),
        ["training"] = HparamJson.ToJson(Training),
    };

    public static TrainingDesc FromJson(JsonNode node) => new(
        HparamJson.FromJson<DatasetHparams>(node["dataset"]!),
        HparamJson.FromJson<ModelHparams>(node["model"]!),
        HparamJson.FromJson<TrainingHparams>(node["training"]!));

    /// <summary>What names the run: the groups' non-default values.</summary>
    public JsonObject NameKey() => new()
    {
        ["dataset"] = HparamJson.NonDefault(Dataset),
        ["model"] = HparamJson.NonDefault(Model),
        ["training"] = HparamJson.NonDefault(Training),
    };

    public string RunName => ExperimentName.Of(Prefix, NameKey());

    /// <summary>Every hyperparameter, one per line, as commands print them before a run.</summary>
    public string Describe() => HparamJson.Describe(Dataset) + HparamJson.Describe(Model) + HparamJson.Describe(Training);

    /// <summary>Refuses, before anything trains, a step (a start or rewind step) at or past the end of training.</summary>
    public void RequireBeforeEnd(Foundations.StepSpec step, int iterationsPerEpoch, string flag)
    {
        var end = Training.TrainingSteps.ToStep(iterationsPerEpoch);
        if (step.ToStep(iterationsPerEpoch) >= end)
            throw new HparamException(flag, $"{step} is at or past the end of training ({Training.TrainingSteps} = iteration {end.Iteration}); "
                + "a run started there would not train at all. Choose a step before the end.");
    }
}
