using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TicketLab.Models;

/// <summary>CIFAR-style VGG with batch norm (OpenLTH's cifar_vgg): 3x3 conv + BN + ReLU, 2x2 max pools, one linear layer.</summary>
public sealed class CifarVgg : TicketModel
{
    private const int Pool = 0;

    private static readonly Dictionary<int, int[]> Plans = new()
    {
        [11] = [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512],
        [13] = [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512],
        [16] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512],
        [19] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512],
    };

    public static IEnumerable<int> Depths => Plans.Keys;

    private readonly TorchSharp.Modules.Sequential layers;
    private readonly Module<Tensor, Tensor> fc;

    public CifarVgg(int depth, InputSpec input) : base($"VGG{depth}")
    {
        if (!Plans.TryGetValue(depth, out var plan))
            throw new ArgumentException($"vgg depth must be one of {string.Join(", ", Plans.Keys)}, got {depth}.");
        var list = new List<(string, Module<Tensor, Tensor>)>();
        int channels = input.Channels;
        foreach (int filters in plan)
        {
            if (filters == Pool)
            {
                list.Add(($"{list.Count}", MaxPool2d(2)));
                continue;
            }
            list.Add(($"{list.Count}", Conv2d(channels, filters, 3, padding: 1)));
            list.Add(($"{list.Count}", BatchNorm2d(filters)));
            list.Add(($"{list.Count}", ReLU()));
            channels = filters;
        }
        layers = Sequential(list);
        fc = Linear(channels, input.NumClasses);
        RegisterComponents();
    }

    public override string OutputLayerName => "fc";

    public override Tensor forward(Tensor input)
    {
        var x = layers.forward(input);
        x = functional.adaptive_avg_pool2d(x, 1).flatten(1);
        return fc.forward(x);
    }
}
