using static TorchSharp.torch;

namespace TicketLab.Models;

/// <summary>
/// Frees a forward pass's intermediate results as soon as the next layer has consumed them.
/// A TorchSharp handle keeps its tensor alive until the step's dispose scope ends, so without
/// this every activation of a forward pass stays allocated together: ResNet-20 evaluating a
/// batch of 1,000 held 5.3 GiB where PyTorch, which frees a tensor with its last reference, needs
/// a few hundred MiB. Autograd keeps its own reference to what backward needs, so freeing the
/// handle never loses a saved tensor.
/// </summary>
internal static class Intermediates
{
    /// <summary>
    /// <paramref name="layer"/> applied to <paramref name="intermediate"/>, whose handle is then
    /// disposed. Only for layers that return a new tensor: an in-place op returns the same handle.
    /// </summary>
    public static Tensor Consume(this Tensor intermediate, Func<Tensor, Tensor> layer)
    {
        using (intermediate) return layer(intermediate);
    }
}
