using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;

namespace TicketLab.Tests.Foundations;

public sealed class HashTests
{
    [Fact]
    public void Default_valued_fields_are_left_out_of_the_hash()
    {
        var implicitDefaults = new TrainingDesc();
        var explicitDefaults = new TrainingDesc(
            new DatasetHparams { DatasetName = "fashion_mnist", BatchSize = 128, DoNotAugment = false },
            new ModelHparams { ModelName = "lenet_300_100", ModelInit = ModelInit.KaimingNormal },
            new TrainingHparams { Lr = 0.1, Gamma = 0.1, WarmupSteps = StepSpec.Parse("0it") });
        Assert.Equal(implicitDefaults.RunName, explicitDefaults.RunName);
        Assert.Empty(HparamJson.NonDefault(explicitDefaults.Training));
    }

    [Fact]
    public void Any_changed_value_changes_the_hash()
    {
        var baseline = new TrainingDesc();
        var hashes = new[]
        {
            baseline with { Training = baseline.Training with { Lr = 0.05 } },
            baseline with { Training = baseline.Training with { MilestoneSteps = [StepSpec.Parse("10ep")] } },
            baseline with { Training = baseline.Training with { DataOrderSeed = 3 } },
            baseline with { Model = baseline.Model with { ModelName = "lenet_100" } },
            baseline with { Dataset = baseline.Dataset with { BatchSize = 64 } },
        }.Select(d => d.RunName).Append(baseline.RunName).ToArray();
        Assert.Equal(hashes.Length, hashes.Distinct().Count());
    }

    [Fact]
    public void Hash_of_a_known_recipe_is_pinned()
    {
        // Pinned so that a refactoring that silently renames every stored result fails here.
        Assert.Equal("train_c55ccdec8491f57a", Presets.Get("lenet_300_100").RunName);
        Assert.Equal(Presets.Get("lenet_300_100").RunName, new TrainingDesc { Training = new TrainingHparams { TrainingSteps = StepSpec.Parse("40ep") } }.RunName);
    }

    [Fact]
    public void Canonical_json_sorts_keys_at_every_level()
    {
        var a = JsonNode.Parse("""{"b":1,"a":{"d":2,"c":[3,{"f":1,"e":2}]}}""");
        Assert.Equal("""{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}""", CanonicalJson.Serialize(a));
    }

    [Fact]
    public void Description_round_trips_through_json()
    {
        var desc = Presets.Get("resnet_20_warmup");
        var back = TrainingDesc.FromJson(JsonNode.Parse(desc.ToJson().ToJsonString())!);
        Assert.Equal(desc.RunName, back.RunName);
        Assert.Equal(StepSpec.Parse("30000it"), back.Training.WarmupSteps);
        Assert.Equal([StepSpec.Parse("80ep"), StepSpec.Parse("120ep")], back.Training.MilestoneSteps);
    }
}
