using TicketLab.Foundations;

namespace TicketLab.Hyperparameters;

/// <summary>
/// Named recipes, each faithful to the paper or framework it names (training and pruning), plus
/// Fashion-MNIST variants that a fresh machine can run. Any flag given on the command line
/// overrides a preset value.
/// </summary>
public static class Presets
{
    private sealed record Preset(string Summary, string Reproduces, Func<TrainingDesc> Training, Func<PruningHparams> Pruning);

    private static readonly StepSpec[] CifarMilestones = [new(80, 0), new(120, 0)];

    // OpenLTH mnist_lenet_300_100: SGD lr 0.1, 40ep, batch 128, kaiming_normal; prune 20% globally, output layer dense.
    private static TrainingDesc OpenlthLenet(string dataset) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 128 },
        new ModelHparams { ModelName = "lenet_300_100" },
        new TrainingHparams { OptimizerName = OptimizerName.Sgd, Lr = 0.1, TrainingSteps = new(40, 0) });

    // Frankle and Carbin (2019), LeNet-300-100: Adam 1.2e-3, batch 60, 50K iterations, Gaussian Glorot init.
    private static TrainingDesc FrankleCarbinLenet(string dataset) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 60 },
        new ModelHparams { ModelName = "lenet_300_100", ModelInit = ModelInit.Xavier },
        new TrainingHparams { OptimizerName = OptimizerName.Adam, Lr = 1.2e-3, TrainingSteps = new(0, 50_000) });

    // Frankle and Carbin (2019), Conv-2/4/6: Adam, batch 60, 20K/25K/30K iterations, Gaussian Glorot init.
    private static TrainingDesc FrankleCarbinConv(string dataset, string model, double lr, long iterations) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 60 },
        new ModelHparams { ModelName = model, ModelInit = ModelInit.Xavier },
        new TrainingHparams { OptimizerName = OptimizerName.Adam, Lr = lr, TrainingSteps = new(0, iterations) });

    // Frankle and Carbin prune layer by layer: fully-connected 20%, output layer at half that, convolutions 10% (15% for Conv-6).
    private static PruningHparams FrankleCarbinPruning(double conv) => new()
    {
        PruningStrategy = "sparse_layerwise", PruningFraction = 0.2, PruningFcFraction = 0.2, PruningConvFraction = conv,
        PruningOutputLayerFraction = 0.1, PruningLayersToIgnore = "none",
    };

    // OpenLTH cifar_resnet_20 / cifar_vgg_16: SGD lr 0.1 momentum 0.9 wd 1e-4, 160ep (62,560 it), x0.1 at 80ep and 120ep, batch 128.
    private static TrainingDesc Cifar(string model, double lr, StepSpec warmup) => new(
        new DatasetHparams { DatasetName = "cifar10", BatchSize = 128 },
        new ModelHparams { ModelName = model },
        new TrainingHparams
        {
            OptimizerName = OptimizerName.Sgd, Lr = lr, Momentum = 0.9, WeightDecay = 1e-4,
            TrainingSteps = new(160, 0), MilestoneSteps = CifarMilestones, Gamma = 0.1, WarmupSteps = warmup,
        });

    private static PruningHparams Openlth() => new();

    // Maene, Li & Moens 2021, Table 1: every round rewinds to initialization (the rewind step's default, 0it),
    // global magnitude pruning of the weights of every layer, output layer included (appendix A.3),
    // batch norm affine with PyTorch's default scale of 1. Durations are in epochs, so a larger
    // --batch-size keeps the epochs and takes fewer steps, as the paper's batch-size experiments do.
    private static PruningHparams MaenePruning() => new() { PruningLayersToIgnore = "none" };

    private static TrainingDesc MaeneLenet(string dataset) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 60 },
        new ModelHparams { ModelName = "lenet_300_100", ModelInit = ModelInit.KaimingUniform },
        new TrainingHparams { OptimizerName = OptimizerName.Adam, Lr = 1.2e-3, LrSchedule = LrSchedule.Constant, TrainingSteps = new(25, 0) });

    private static TrainingDesc MaeneResnet20(string dataset) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 128 },
        new ModelHparams { ModelName = "resnet_20", BatchnormInit = BatchnormInit.Fixed },
        new TrainingHparams
        {
            OptimizerName = OptimizerName.Sgd, Lr = 0.1, Momentum = 0.9, WeightDecay = 1e-5,
            TrainingSteps = new(85, 0), MilestoneSteps = [new(56, 0), new(71, 0)], Gamma = 0.1,
        });

    private static TrainingDesc MaeneConv4(string dataset) => new(
        new DatasetHparams { DatasetName = dataset, BatchSize = 128 },
        new ModelHparams { ModelName = "conv4" },
        new TrainingHparams
        {
            OptimizerName = OptimizerName.Sgd, Lr = 0.01, Momentum = 0.9, WeightDecay = 1e-5,
            TrainingSteps = new(75, 0), LrSchedule = LrSchedule.Cosine,
        });

    private static readonly Dictionary<string, Preset> Named = new()
    {
        ["lenet_300_100"] = new("LeNet-300-100, SGD lr 0.1, 40ep, batch 128; prune 20% global, output dense", "OpenLTH mnist_lenet_300_100, on fashion_mnist", () => OpenlthLenet("fashion_mnist"), Openlth),
        ["openlth_mnist_lenet_300_100"] = new("as lenet_300_100, on mnist", "OpenLTH mnist_lenet_300_100 as published", () => OpenlthLenet("mnist"), Openlth),
        ["frankle_carbin_lenet_300_100"] = new("LeNet-300-100, Adam 1.2e-3, 50000it, batch 60, Glorot; prune fc 20%, output 10% per layer", "Frankle & Carbin 2019, LeNet-300-100 on MNIST",
            () => FrankleCarbinLenet("mnist"), () => FrankleCarbinPruning(0.1)),
        ["frankle_carbin_conv2"] = new("Conv-2, Adam 2e-4, 20000it, batch 60, Glorot; prune conv 10%, fc 20%, output 10%", "Frankle & Carbin 2019, Conv-2 on CIFAR-10",
            () => FrankleCarbinConv("cifar10", "conv2", 2e-4, 20_000), () => FrankleCarbinPruning(0.1)),
        ["frankle_carbin_conv4"] = new("Conv-4, Adam 3e-4, 25000it, batch 60, Glorot; prune conv 10%, fc 20%, output 10%", "Frankle & Carbin 2019, Conv-4 on CIFAR-10",
            () => FrankleCarbinConv("cifar10", "conv4", 3e-4, 25_000), () => FrankleCarbinPruning(0.1)),
        ["frankle_carbin_conv6"] = new("Conv-6, Adam 3e-4, 30000it, batch 60, Glorot; prune conv 15%, fc 20%, output 10%", "Frankle & Carbin 2019, Conv-6 on CIFAR-10",
            () => FrankleCarbinConv("cifar10", "conv6", 3e-4, 30_000), () => FrankleCarbinPruning(0.15)),
        ["conv2"] = new("as frankle_carbin_conv2, on fashion_mnist", "Frankle & Carbin 2019 Conv-2 recipe, on fashion_mnist",
            () => FrankleCarbinConv("fashion_mnist", "conv2", 2e-4, 20_000), () => FrankleCarbinPruning(0.1)),
        ["conv4"] = new("as frankle_carbin_conv4, on fashion_mnist", "Frankle & Carbin 2019 Conv-4 recipe, on fashion_mnist",
            () => FrankleCarbinConv("fashion_mnist", "conv4", 3e-4, 25_000), () => FrankleCarbinPruning(0.1)),
        ["conv6"] = new("as frankle_carbin_conv6, on fashion_mnist", "Frankle & Carbin 2019 Conv-6 recipe, on fashion_mnist",
            () => FrankleCarbinConv("fashion_mnist", "conv6", 3e-4, 30_000), () => FrankleCarbinPruning(0.15)),
        ["resnet_20"] = new("ResNet-20, SGD lr 0.1 momentum 0.9 wd 1e-4, 160ep, x0.1 at 80ep,120ep, batch 128; prune 20% global", "OpenLTH cifar_resnet_20 (Frankle et al. 2020 standard)",
            () => Cifar("resnet_20", 0.1, default), Openlth),
        ["openlth_cifar_resnet_20"] = new("same as resnet_20", "OpenLTH cifar_resnet_20", () => Cifar("resnet_20", 0.1, default), Openlth),
        ["resnet_56"] = new("ResNet-56, as resnet_20", "OpenLTH cifar_resnet_56", () => Cifar("resnet_56", 0.1, default), Openlth),
        ["vgg_16"] = new("VGG-16 (BN), SGD lr 0.1 momentum 0.9 wd 1e-4, 160ep, x0.1 at 80ep,120ep; prune 20% global, output dense", "OpenLTH cifar_vgg_16 (Frankle et al. 2020 standard)",
            () => Cifar("vgg_16", 0.1, default), Openlth),
        ["openlth_cifar_vgg_16"] = new("same as vgg_16", "OpenLTH cifar_vgg_16", () => Cifar("vgg_16", 0.1, default), Openlth),
        ["resnet_20_warmup"] = new("ResNet-20, lr 0.03 with 30000it linear warmup", "Frankle et al. 2020, ResNet-20 warmup", () => Cifar("resnet_20", 0.03, new(0, 30_000)), Openlth),
        ["vgg_16_warmup"] = new("VGG-16, lr 0.1 with 30000it linear warmup", "Frankle et al. 2020, VGG-16 warmup", () => Cifar("vgg_16", 0.1, new(0, 30_000)), Openlth),
        ["maene_lenet_300_100"] = new("LeNet-300-100, Adam 1.2e-3 constant, 25ep, batch 60, Kaiming uniform; prune 20% global over all layers, rewind to 0", "Maene et al. 2021, Table 1, LeNet-300-100 on MNIST",
            () => MaeneLenet("mnist"), MaenePruning),
        ["maene_lenet_300_100_fashion"] = new("as maene_lenet_300_100, on fashion_mnist", "Maene et al. 2021 LeNet recipe, on fashion_mnist", () => MaeneLenet("fashion_mnist"), MaenePruning),
        ["maene_resnet_20"] = new("ResNet-20, SGD lr 0.1 momentum 0.9 wd 1e-5, 85ep, x0.1 at 56ep,71ep, batch 128, Kaiming normal, BN scale 1; prune 20% global over all layers", "Maene et al. 2021, Table 1, ResNet-20 on CIFAR-10",
            () => MaeneResnet20("cifar10"), MaenePruning),
        ["maene_resnet_20_fashion"] = new("as maene_resnet_20, on fashion_mnist", "Maene et al. 2021 ResNet-20 recipe, on fashion_mnist", () => MaeneResnet20("fashion_mnist"), MaenePruning),
        ["maene_conv4"] = new("Conv-4, SGD lr 0.01 momentum 0.9 wd 1e-5, cosine, 75ep, batch 128, Kaiming normal; prune 20% global over all layers", "Maene et al. 2021, Table 1, Conv-4 on CIFAR-10",
            () => MaeneConv4("cifar10"), MaenePruning),
        ["maene_conv4_fashion"] = new("as maene_conv4, on fashion_mnist", "Maene et al. 2021 Conv-4 recipe, on fashion_mnist", () => MaeneConv4("fashion_mnist"), MaenePruning),
    };

    public static IEnumerable<(string Name, string Summary, string Reproduces)> All => Named.Select(p => (p.Key, p.Value.Summary, p.Value.Reproduces));

    public static TrainingDesc Get(string name) => Find(name).Training();

    /// <summary>The preset's pruning hyperparameters (OpenLTH's defaults unless the paper prunes otherwise).</summary>
    public static PruningHparams PruningOf(string name) => Find(name).Pruning();

    private static Preset Find(string name) =>
        Named.TryGetValue(name, out var preset)
            ? preset
            : throw new HparamException("--preset", $"unknown preset '{name}'. Known presets: {string.Join(", ", Named.Keys)}.");
}
