using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Models;

/// <summary>Shape of one input image and number of classes: what a model needs from the dataset.</summary>
public readonly record struct InputSpec(int Channels, int Height, int Width, int NumClasses)
{
    public int Features => Channels * Height * Width;

    public static InputSpec Of(Data.ImageDataset dataset) =>
        new(dataset.Info.Channels, dataset.Info.Height, dataset.Info.Width, dataset.NumClasses);
}

/// <summary>
/// A vision network that names its prunable tensors (conv and linear weights, PyTorch-style keys
/// such as <c>fc.weight</c>) and its output layer.
/// </summary>
public abstract class TicketModel(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>The registry name it was built from, e.g. <c>resnet_20</c>.</summary>
    public string ModelName { get; internal set; } = "";

    /// <summary>Module name of the output layer, e.g. <c>fc</c>.</summary>
    public abstract string OutputLayerName { get; }

    /// <summary>Weights of every convolution and linear layer, in registration order.</summary>
    public IReadOnlyList<string> PrunableParameterNames =>
        named_modules()
            .Where(m => m.module is TorchSharp.Modules.Linear or TorchSharp.Modules.Conv2d)
            .Select(m => $"{m.name}.weight")
            .ToArray();

    public IReadOnlyList<string> OutputParameterNames =>
        named_parameters().Select(p => p.name).Where(n => n.StartsWith(OutputLayerName + ".", StringComparison.Ordinal)).ToArray();

    public long ParameterCount => parameters().Sum(p => p.numel());

    public Dictionary<string, Tensor> NamedParameterMap() =>
        named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
}
