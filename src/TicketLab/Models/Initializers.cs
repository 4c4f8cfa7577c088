using TicketLab.Hyperparameters;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Models;

/// <summary>Weight initializers for conv and linear layers, and the batch-norm initializer.</summary>
public static class Initializers
{
    public static void Apply(nn.Module model, ModelInit init, BatchnormInit batchnormInit)
    {
        using var _ = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.Linear linear:
                    InitWeight(linear.weight!, init);
                    break;
                case TorchSharp.Modules.Conv2d conv:
                    InitWeight(conv.weight!, init);
                    break;
                case TorchSharp.Modules.BatchNorm2d bn:
                    if (batchnormInit == BatchnormInit.Uniform) nn.init.uniform_(bn.weight!, 0, 1);
                    else nn.init.ones_(bn.weight!);
                    nn.init.zeros_(bn.bias!);
                    break;
            }
        }
    }

    private static void InitWeight(Tensor weight, ModelInit init)
    {
        switch (init)
        {
            case ModelInit.KaimingNormal: nn.init.kaiming_normal_(weight); break;
            case ModelInit.KaimingUniform: nn.init.kaiming_uniform_(weight); break;
            case ModelInit.Xavier: nn.init.xavier_normal_(weight); break;
            default: throw new ArgumentOutOfRangeException(nameof(init), init, null);
        }
    }
}
