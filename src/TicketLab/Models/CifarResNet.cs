using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TicketLab.Models;

/// <summary>
/// CIFAR-style ResNet (He et al. 2016; OpenLTH's cifar_resnet): depth D = 6n + 2, three stages of
/// n basic blocks with W, 2W and 4W filters, 1x1 projection shortcuts where the shape changes.
/// </summary>
public sealed class CifarResNet : TicketModel
{
    private readonly Module<Tensor, Tensor> conv;
    private readonly Module<Tensor, Tensor> bn;
    private readonly TorchSharp.Modules.Sequential blocks;
    private readonly Module<Tensor, Tensor> fc;

    public CifarResNet(int depth, int width, InputSpec input) : base($"ResNet{depth}")
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new ArgumentException($"resnet depth must be 6n+2 with n >= 1 (20, 32, 44, 56, 110...), got {depth}.");
        int n = (depth - 2) / 6;
        conv = Conv2d(input.Channels, width, 3, padding: 1, bias: false);
        bn = BatchNorm2d(width);
        var list = new List<(string, Module<Tensor, Tensor>)>();
        int filters = width;
        for (int stage = 0; stage < 3; stage++)
        {
            int stageFilters = width << stage;
            for (int i = 0; i < n; i++)
            {
                bool downsample = stage > 0 && i == 0;
                list.Add(($"{list.Count}", new Block(filters, stageFilters, downsample)));
                filters = stageFilters;
            }
        }
        blocks = Sequential(list);
        fc = Linear(filters, input.NumClasses);
        RegisterComponents();
    }

    public override string OutputLayerName => "fc";

    public override Tensor forward(Tensor input)
    {
        // In-place ReLU after batch norm is safe for autograd: batch norm's backward uses its input, not its output.
        var x = Intermediates.ChannelsLast(input).Consume(conv.ForwardAutocast).Consume(bn.forward).relu_();
        x = x.Consume(blocks.ForwardAutocast);
        x = x.Consume(t => functional.adaptive_avg_pool2d(t, 1)).Consume(t => t.flatten(1));
        return x.Consume(fc.ForwardAutocast);
    }

    private sealed class Block : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> conv1, bn1, conv2, bn2;
        private readonly Module<Tensor, Tensor>? shortcut;

        public Block(int filtersIn, int filtersOut, bool downsample) : base("Block")
        {
            int stride = downsample ? 2 : 1;
            conv1 = Conv2d(filtersIn, filtersOut, 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(filtersOut);
            conv2 = Conv2d(filtersOut, filtersOut, 3, padding: 1, bias: false);
            bn2 = BatchNorm2d(filtersOut);
            if (downsample || filtersIn != filtersOut)
                shortcut = Sequential(Conv2d(filtersIn, filtersOut, 1, stride: stride, bias: false), BatchNorm2d(filtersOut));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = conv1.ForwardAutocast(x).Consume(bn1.forward).relu_().Consume(conv2.ForwardAutocast).Consume(bn2.forward);
            // The residual sum goes into batch norm's output, which nothing saved: the same values as y + shortcut, one tensor fewer.
            if (shortcut is null) y.add_(x);
            else using (var projected = shortcut.ForwardAutocast(x)) y.add_(projected);
            return y.relu_();
        }
    }
}
