using TicketLab.Hyperparameters;
using TicketLab.Models;
using static TorchSharp.torch;

namespace TicketLab.Tests.Models;

public sealed class ModelTests
{
    private static readonly InputSpec Cifar = new(3, 32, 32, 10);

    [Theory]
    [InlineData("resnet_20", 272_474)]
    [InlineData("resnet_56", 855_770)]
    [InlineData("vgg_16", 14_728_266)]
    public void Cifar_parameter_counts_match_the_reference(string name, long expected)
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = name }, Cifar, seed: 1);
        Assert.Equal(expected, model.ParameterCount);
    }

    [Fact]
    public void Lenet_300_100_on_28x28_has_266610_parameters()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_300_100" }, new InputSpec(1, 28, 28, 10), 1);
        Assert.Equal(266_610, model.ParameterCount);
        Assert.Equal(["fc.weight", "fc_layers.0.weight", "fc_layers.1.weight"], model.PrunableParameterNames.Order());
        Assert.Equal(["fc.weight", "fc.bias"], model.OutputParameterNames);
    }

    [Theory]
    [InlineData("lenet_300_100", 1, 28)]
    [InlineData("conv2", 1, 28)]
    [InlineData("conv4", 3, 32)]
    [InlineData("conv6", 3, 32)]
    [InlineData("resnet_20", 1, 28)]
    [InlineData("resnet_14_32", 3, 32)]
    [InlineData("vgg_11", 3, 32)]
    [InlineData("vgg_19", 1, 28)]
    public void Every_family_gives_class_scores_for_its_input(string name, int channels, int size)
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = name }, new InputSpec(channels, size, size, 7), 1);
        using var output = model.forward(randn(2, channels, size, size));
        Assert.Equal([2L, 7L], output.shape);
        Assert.All(model.PrunableParameterNames, n => Assert.EndsWith(".weight", n));
        Assert.Contains("fc.weight", model.PrunableParameterNames);
    }

    [Fact]
    public void Conv_nets_have_the_layers_of_the_paper()
    {
        using var conv6 = ModelRegistry.Create(new ModelHparams { ModelName = "conv6" }, Cifar, 1);
        Assert.Equal(6 + 3, conv6.PrunableParameterNames.Count);
        var weights = conv6.NamedParameterMap();
        Assert.Equal([256L, 256 * 4 * 4], weights["fc_layers.0.weight"].shape);
    }

    [Fact]
    public void Same_seed_gives_identical_weights_and_another_seed_does_not()
    {
        var hparams = new ModelHparams { ModelName = "resnet_8" };
        using var a = ModelRegistry.Create(hparams, Cifar, 5);
        using var b = ModelRegistry.Create(hparams, Cifar, 5);
        using var c = ModelRegistry.Create(hparams, Cifar, 6);
        foreach (var (name, tensor) in a.state_dict())
            Assert.True(tensor.eq(b.state_dict()[name]).all().item<bool>(), name);
        Assert.False(a.NamedParameterMap()["conv.weight"].eq(c.NamedParameterMap()["conv.weight"]).all().item<bool>());
    }

    [Fact]
    public void Kaiming_normal_has_the_expected_spread()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_300_100" }, new InputSpec(1, 28, 28, 10), 1);
        double std = model.NamedParameterMap()["fc_layers.0.weight"].std().item<float>();
        Assert.InRange(std, Math.Sqrt(2.0 / 784) * 0.97, Math.Sqrt(2.0 / 784) * 1.03);
    }

    [Theory]
    [InlineData("resnet_21")]
    [InlineData("vgg_12")]
    [InlineData("lenet")]
    [InlineData("alexnet")]
    public void Unknown_models_are_rejected_with_the_valid_forms(string name)
    {
        var error = Assert.Throws<HparamException>(() => ModelRegistry.Create(new ModelHparams { ModelName = name }, Cifar, 1));
        Assert.Equal("--model-name", error.Flag);
    }
}
