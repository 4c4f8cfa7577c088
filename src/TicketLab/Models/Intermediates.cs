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

    /// <summary>
    /// A batch of images [N, C, H, W] laid out channels-last in memory (NHWC), the same values and
    /// shape. oneDNN's convolutions work in that layout; given NCHW they reorder every input and
    /// output, and keep that layout through batch norm, ReLU, pooling and sums. The conv nets take
    /// their input this way: on 2 CPU threads, ResNet-20 trains 1.23x and evaluates 1.3x faster,
    /// VGG-16 1.07x and 1.13x. A new handle, for <see cref="Consume"/>.
    /// </summary>
    public static Tensor ChannelsLast(Tensor images)
    {
        if (images.dim() != 4 || images.stride(1) == 1 || SlowerOnThisDevice(images)) return images.alias();
        using var nhwc = images.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>
    /// cuDNN runs channels-last in full float32 (TF32 off, no autocast) slower than NCHW: ResNet-20
    /// evaluating a batch of 1000 on an H200 took 14.9 ms against 5.7 ms, in PyTorch as in TicketLab,
    /// and PyTorch's training step ran at 16,150 against 17,258 images/s. With TF32 or bf16 autocast
    /// the tensor cores run channels-last fastest, on the CPU oneDNN does (bench/gpu.sh, bench/peers.sh).
    /// </summary>
    private static bool SlowerOnThisDevice(Tensor images) =>
        images.device_type == TorchSharp.DeviceType.CUDA && !TorchSharp.torch.backends.cudnn.allow_tf32 && Autocast.Active is null;
}
