using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TicketLab.Models;

/// <summary>Fully-connected LeNet: <c>lenet_300_100</c> has hidden layers of 300 and 100 units.</summary>
public sealed class LeNet : TicketModel
{
    private readonly TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>> fc_layers;
    private readonly Module<Tensor, Tensor> fc;

    public LeNet(IReadOnlyList<int> hidden, InputSpec input) : base("LeNet")
    {
        fc_layers = new TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>>();
        int width = input.Features;
        foreach (int units in hidden)
        {
            fc_layers.Add(Linear(width, units));
            width = units;
        }
        fc = Linear(width, input.NumClasses);
        RegisterComponents();
    }

    public override string OutputLayerName => "fc";

    public override Tensor forward(Tensor input)
    {
        var x = input.flatten(1);
        foreach (var layer in fc_layers) x = x.Consume(layer.ForwardAutocast).relu_();
        return x.Consume(fc.ForwardAutocast);
    }
}
