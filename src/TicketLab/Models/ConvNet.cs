using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TicketLab.Models;

/// <summary>
/// Conv-2/4/6 of Frankle and Carbin (2019): pairs of 3x3 convolutions (64, 128, 256 filters)
/// each followed by 2x2 max pooling, then fully-connected layers of 256, 256 and the classes.
/// </summary>
public sealed class ConvNet : TicketModel
{
    private readonly TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>> conv_layers;
    private readonly TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>> fc_layers;
    private readonly Module<Tensor, Tensor> fc;

    public ConvNet(int pairs, InputSpec input) : base($"Conv{2 * pairs}")
    {
        conv_layers = new TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>>();
        int channels = input.Channels, height = input.Height, width = input.Width;
        for (int pair = 0; pair < pairs; pair++)
        {
            int filters = 64 << pair;
            conv_layers.Add(Conv2d(channels, filters, 3, padding: 1));
            conv_layers.Add(Conv2d(filters, filters, 3, padding: 1));
            channels = filters;
            height /= 2;
            width /= 2;
        }
        if (height < 1 || width < 1)
            throw new ArgumentException($"conv{2 * pairs} needs inputs of at least {1 << pairs} pixels a side, got {input.Height}x{input.Width}.");
        fc_layers = new TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>>(
            Linear(channels * height * width, 256), Linear(256, 256));
        fc = Linear(256, input.NumClasses);
        RegisterComponents();
    }

    public override string OutputLayerName => "fc";

    public override Tensor forward(Tensor input)
    {
        var x = Intermediates.ChannelsLast(input);
        for (int i = 0; i < conv_layers.Count; i++)
        {
            x = x.Consume(conv_layers[i].ForwardAutocast).relu_();
            if (i % 2 == 1) x = x.Consume(t => functional.max_pool2d(t, 2));
        }
        x = x.Consume(t => t.flatten(1));
        foreach (var layer in fc_layers) x = x.Consume(layer.ForwardAutocast).relu_();
        return x.Consume(fc.ForwardAutocast);
    }
}
