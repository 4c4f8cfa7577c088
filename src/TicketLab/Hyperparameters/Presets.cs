using TicketLab.Foundations;

namespace TicketLab.Hyperparameters;

/// <summary>
/// Default recipes per model family, as OpenLTH's. Any flag given on the command line overrides
/// a preset value. The lenet and conv recipes use fashion_mnist, the data a fresh machine has.
/// </summary>
public static class Presets
{
    private static readonly StepSpec[] CifarMilestones = [new(80, 0), new(120, 0)];

    private static TrainingDesc Lenet(string model) => new(
        new DatasetHparams { DatasetName = "fashion_mnist", BatchSize = 128 },
        new ModelHparams { ModelName = model },
        new TrainingHparams { OptimizerName = OptimizerName.Sgd, Lr = 0.1, TrainingSteps = new(40, 0) });

    // Frankle and Carbin (2019), Conv-2/4/6: Adam, batch 60, 20K/25K/30K iterations.
    private static TrainingDesc Conv(string model, double lr, long iterations) => new(
        new DatasetHparams { DatasetName = "fashion_mnist", BatchSize = 60 },
        new ModelHparams { ModelName = model },
        new TrainingHparams { OptimizerName = OptimizerName.Adam, Lr = lr, TrainingSteps = new(0, iterations) });

    private static TrainingDesc Cifar(string model, double lr, StepSpec warmup) => new(
        new DatasetHparams { DatasetName = "cifar10", BatchSize = 128 },
        new ModelHparams { ModelName = model },
        new TrainingHparams
        {
            OptimizerName = OptimizerName.Sgd, Lr = lr, Momentum = 0.9, WeightDecay = 1e-4,
            TrainingSteps = new(160, 0), MilestoneSteps = CifarMilestones, Gamma = 0.1, WarmupSteps = warmup,
        });

    private static readonly Dictionary<string, (string Summary, Func<TrainingDesc> Create)> Named = new()
    {
        ["lenet_300_100"] = ("LeNet-300-100, SGD lr 0.1, 40ep, batch 128, fashion_mnist", () => Lenet("lenet_300_100")),
        ["conv2"] = ("Conv-2, Adam lr 2e-4, 20000it, batch 60, fashion_mnist", () => Conv("conv2", 2e-4, 20000)),
        ["conv4"] = ("Conv-4, Adam lr 3e-4, 25000it, batch 60, fashion_mnist", () => Conv("conv4", 3e-4, 25000)),
        ["conv6"] = ("Conv-6, Adam lr 3e-4, 30000it, batch 60, fashion_mnist", () => Conv("conv6", 3e-4, 30000)),
        ["resnet_20"] = ("ResNet-20, SGD lr 0.1 momentum 0.9 wd 1e-4, 160ep, x0.1 at 80ep,120ep, cifar10", () => Cifar("resnet_20", 0.1, default)),
        ["resnet_56"] = ("ResNet-56, as resnet_20", () => Cifar("resnet_56", 0.1, default)),
        ["vgg_16"] = ("VGG-16 (BN), SGD lr 0.1 momentum 0.9 wd 1e-4, 160ep, x0.1 at 80ep,120ep, cifar10", () => Cifar("vgg_16", 0.1, default)),
        ["resnet_20_warmup"] = ("ResNet-20, lr 0.03 with 30000it warmup (Frankle et al. 2020)", () => Cifar("resnet_20", 0.03, new(0, 30000))),
        ["vgg_16_warmup"] = ("VGG-16, lr 0.1 with 30000it warmup (Frankle et al. 2020)", () => Cifar("vgg_16", 0.1, new(0, 30000))),
    };

    public static IEnumerable<(string Name, string Summary)> All => Named.Select(p => (p.Key, p.Value.Summary));

    public static TrainingDesc Get(string name) =>
        Named.TryGetValue(name, out var preset)
            ? preset.Create()
            : throw new HparamException("--preset", $"unknown preset '{name}'. Known presets: {string.Join(", ", Named.Keys)}.");
}
