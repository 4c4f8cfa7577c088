using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Interop;
using TicketLab.Models;

namespace TicketLab.Tests.Interop;

/// <summary>TicketLab's model names and tensor names against OpenLTH's, and OpenLTH's hparams.log read back.</summary>
public sealed class OpenLthNamesTests
{
    [Theory]
    [InlineData("lenet_300_100", "mnist_lenet_300_100")]
    [InlineData("resnet_20", "cifar_resnet_20")]
    [InlineData("resnet_8_4", "cifar_resnet_8_4")]
    [InlineData("vgg_16", "cifar_vgg_16")]
    public void Model_names_correspond_both_ways(string ticketLab, string openLth)
    {
        Assert.Equal(openLth, OpenLthModel.For(ticketLab)!.OpenLthName);
        Assert.Equal(ticketLab, OpenLthModel.FromOpenLthName(openLth).TicketLabName);
    }

    [Fact]
    public void Models_OpenLth_lacks_have_no_correspondence()
    {
        Assert.Null(OpenLthModel.For("conv4"));
        Assert.Null(OpenLthModel.For("vgg_12"));
        Assert.Throws<InvalidDataException>(() => OpenLthModel.FromOpenLthName("imagenet_resnet_50"));
        Assert.Throws<InvalidDataException>(() => OpenLthModel.FromOpenLthName("cifar_lenet_300_100"));
    }

    [Theory]
    [InlineData("lenet_300_100", 1, 28)]
    [InlineData("resnet_8_4", 3, 32)]
    public void LeNet_and_ResNet_keys_are_OpenLths_already(string name, int channels, int size)
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = name }, new InputSpec(channels, size, size, 10), 1);
        var names = OpenLthModel.For(name)!;
        Assert.False(names.RenamesKeys);
        var keys = model.state_dict().Keys.ToArray();
        Assert.All(keys, k => Assert.Equal(k, names.ToOpenLth(k)));
        if (name.StartsWith("resnet", StringComparison.Ordinal))
        {
            // OpenLTH's cifar_resnet: conv, bn, blocks.i.{conv1,bn1,conv2,bn2,shortcut.0,shortcut.1}, fc, with BN statistics.
            foreach (var key in new[] { "conv.weight", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "blocks.0.conv1.weight", "blocks.1.shortcut.0.weight", "blocks.1.shortcut.1.running_var", "fc.bias" })
                Assert.Contains(key, keys);
            Assert.DoesNotContain("blocks.0.shortcut.0.weight", keys);
        }
        else Assert.Equal(["fc_layers.0.weight", "fc_layers.0.bias", "fc_layers.1.weight", "fc_layers.1.bias", "fc.weight", "fc.bias"], keys);
    }

    [Fact]
    public void Vgg_conv_modules_are_renamed_to_OpenLths_nested_ones_and_back()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "vgg_11" }, new InputSpec(3, 32, 32, 10), 1);
        var names = OpenLthModel.For("vgg_11")!;
        Assert.True(names.RenamesKeys);
        // vgg_11: 64, M, 128, M, ... TicketLab's layers are conv 0, BN 1, ReLU 2, pool 3, conv 4, BN 5; OpenLTH's are ConvModule 0, pool 1, ConvModule 2.
        Assert.Equal("layers.0.conv.weight", names.ToOpenLth("layers.0.weight"));
        Assert.Equal("layers.0.bn.running_mean", names.ToOpenLth("layers.1.running_mean"));
        Assert.Equal("layers.2.conv.bias", names.ToOpenLth("layers.4.bias"));
        Assert.Equal("layers.2.bn.num_batches_tracked", names.ToOpenLth("layers.5.num_batches_tracked"));
        Assert.Equal("fc.weight", names.ToOpenLth("fc.weight"));
        var keys = model.state_dict().Keys.ToArray();
        var renamed = keys.Select(names.ToOpenLth).ToArray();
        Assert.Equal(keys.Length, renamed.Distinct().Count());
        Assert.All(renamed, k => Assert.Matches(@"^(layers\.\d+\.(conv|bn)\.\w+|fc\.(weight|bias))$", k));
        Assert.Equal(keys, renamed.Select(names.FromOpenLth));
        // The last conv module of vgg_11 is OpenLTH's layers.11 (8 convs and 4 pools, no pool at the end).
        Assert.Contains("layers.11.conv.weight", renamed);
    }

    private const string ResNetLog = """
        Dataset Hyperparameters
            * dataset_name => cifar10
            * batch_size => 128
        Model Hyperparameters
            * model_name => cifar_resnet_20
            * model_init => kaiming_normal
            * batchnorm_init => uniform
        Pretraining Dataset Hyperparameters
            * dataset_name => cifar10
            * batch_size => 128
        Pretraining Training Hyperparameters
            * optimizer_name => sgd
            * lr => 0.1
            * training_steps => 2000it
            * momentum => 0.9
            * milestone_steps => 80ep,120ep
            * gamma => 0.1
            * weight_decay => 0.0001
        Pruning Hyperparameters
            * pruning_strategy => sparse_global
            * pruning_fraction => 0.2
        Training Hyperparameters
            * optimizer_name => sgd
            * lr => 0.1
            * training_steps => 160ep
            * momentum => 0.9
            * milestone_steps => 80ep,120ep
            * gamma => 0.1
            * weight_decay => 0.0001
        """;

    [Fact]
    public void An_OpenLth_hparams_log_maps_to_TicketLabs_recipe_with_rewinding()
    {
        var mapped = OpenLthHparamsMapping.ToTicketLab(OpenLthHparamsLog.Parse(ResNetLog, "hparams.log"));
        var desc = mapped.Desc;
        var preset = Presets.Get("resnet_20");
        // The recipe is OpenLTH's cifar_resnet_20, which the resnet_20 preset reproduces.
        Assert.Equal(HparamJson.ToJson(preset.Training).ToJsonString(), HparamJson.ToJson(desc.Training.Training).ToJsonString());
        Assert.Equal(preset.Dataset, desc.Training.Dataset);
        Assert.Equal(preset.Model, desc.Training.Model);
        Assert.Equal(StepSpec.Parse("2000it"), desc.Lottery.RewindStep);
        Assert.Null(desc.Pruning.PruningLayersToIgnore); // resnet prunes every layer, as TicketLab's default does
        Assert.Equal(PruningCountRule.Openlth, desc.Pruning.PruningCountRule);
        Assert.Contains(mapped.Notes, n => n.Contains("data_order_seed"));
        Assert.Equal(["--dataset-name", "cifar10", "--model-name", "resnet_20", "--momentum", "0.9", "--weight-decay", "0.0001", "--training-steps", "160ep",
            "--milestone-steps", "80ep,120ep", "--pruning-count-rule", "openlth", "--rewind-step", "2000it"],
            HparamFlags.Of(desc.Training.Dataset, desc.Training.Model, desc.Training.Training, desc.Pruning, desc.Lottery));
    }

    [Fact]
    public void LeNets_output_layer_stays_dense_as_in_OpenLth_and_Nesterov_momentum_maps()
    {
        string log = """
            Dataset Hyperparameters
                * dataset_name => mnist
                * batch_size => 128
            Model Hyperparameters
                * model_name => mnist_lenet_300_100
                * model_init => kaiming_uniform
                * batchnorm_init => uniform
            Pruning Hyperparameters
                * pruning_strategy => sparse_global
                * pruning_fraction => 0.2
                * pruning_layers_to_ignore => fc.weight
            Training Hyperparameters
                * optimizer_name => sgd
                * lr => 0.1
                * training_steps => 40ep
                * nesterov_momentum => 0.9
                * data_order_seed => 3
            """;
        var desc = OpenLthHparamsMapping.ToTicketLab(OpenLthHparamsLog.Parse(log, "hparams.log")).Desc;
        Assert.Null(desc.Pruning.PruningLayersToIgnore); // TicketLab's default for lenet: the output layer is left dense
        Assert.Equal(ModelInit.KaimingUniform, desc.Training.Model.ModelInit);
        Assert.True(desc.Training.Training.NesterovMomentum);
        Assert.Equal(0.9, desc.Training.Training.Momentum);
        Assert.Equal(3, desc.Training.Training.DataOrderSeed);

        // A LeNet whose output layer OpenLTH pruned (no layers ignored) keeps that: --pruning-layers-to-ignore none.
        var pruned = OpenLthHparamsMapping.ToTicketLab(OpenLthHparamsLog.Parse(log.Replace("    * pruning_layers_to_ignore => fc.weight\n", ""), "hparams.log")).Desc;
        Assert.Equal("none", pruned.Pruning.PruningLayersToIgnore);
    }

    [Theory]
    [InlineData("    * random_labels_fraction => 0.5", "random_labels_fraction => 0.5")]
    [InlineData("    * others_frozen => True", "others_frozen => True")]
    [InlineData("    * some_future_field => 1", "some_future_field => 1")]
    public void Fields_without_a_TicketLab_counterpart_stop_the_import_by_name(string line, string named)
    {
        string log = ResNetLog.Replace("    * batchnorm_init => uniform", "    * batchnorm_init => uniform\n" + line);
        if (line.Contains("random_labels")) log = ResNetLog.Replace("    * batch_size => 128\nModel", "    * batch_size => 128\n" + line + "\nModel");
        var error = Assert.Throws<InvalidDataException>(() => OpenLthHparamsMapping.ToTicketLab(OpenLthHparamsLog.Parse(log, "x/hparams.log")));
        Assert.Contains(named, error.Message);
        Assert.Contains("x/hparams.log", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_hparams_log_is_an_error_naming_the_line()
    {
        var error = Assert.Throws<InvalidDataException>(() => OpenLthHparamsLog.Parse("Dataset Hyperparameters\n  dataset_name: mnist\n", "h.log"));
        Assert.Contains("h.log:2", error.Message);
    }
}
