using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TicketLab.Models;

/// <summary>CIFAR-style VGG with batch norm (OpenLTH's cifar_vgg): 3x3 conv + BN + ReLU, 2x2 max pools, one linear layer.</summary>
public sealed class CifarVgg : TicketModel
{
    /// <summary>A max pool in a plan; other entries are conv filter counts.</summary>
    public const int Pool = 0;

    private static readonly Dictionary<int, int[]> Plans = new()
    {
        [11] = [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512],
        [13] = [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512],
        [16] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512],
        [19] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512],
    };

    public static IEnumerable<int> Depths => Plans.Keys;

    /// <summary>The plan of a depth: filters of each 3x3 conv (+ BN + ReLU), <see cref="Pool"/> for a 2x2 max pool.</summary>
    public static IReadOnlyList<int> PlanOf(int depth) =>
        Plans.TryGetValue(depth, out var plan) ? plan : throw new ArgumentException($"vgg depth must be one of {string.Join(", ", Plans.Keys)}, got {depth}.");

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
            list.Add(($"{list.Count}", ReLU(inplace: true))); // in place: batch norm's backward needs its input, not its output
            channels = filters;
        }
        layers = Sequential(list);
        fc = Linear(channels, input.NumClasses);
        RegisterComponents();
    }

    public override string OutputLayerName => "fc";

    public override Tensor forward(Tensor input)
    {
        var x = Intermediates.ChannelsLast(input).Consume(layers.ForwardAutocast);
        x = x.Consume(t => functional.adaptive_avg_pool2d(t, 1)).Consume(t => t.flatten(1));
        return x.Consume(fc.ForwardAutocast);
    }
}
