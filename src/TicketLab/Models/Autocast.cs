using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Models;

/// <summary>
/// Mixed precision as PyTorch's <c>torch.autocast(dtype=torch.bfloat16)</c> does it for the layers
/// TicketLab's models use (TorchSharp 0.107 has no autocast): inside <see cref="Enable"/>, a
/// convolution or linear layer casts its input, weight and bias to bfloat16 and computes in it; its
/// output stays bfloat16, so batch norm (with its float32 scale, shift and running statistics),
/// activations, pooling and residual sums run on bfloat16 activations, as under PyTorch's autocast,
/// and a model's output is bfloat16: the training loop computes the loss in float32. The weights,
/// their gradients and the optimizer stay float32: the casts are differentiable, so each weight's
/// gradient arrives in float32. On an AMD Zen 4 CPU (AVX-512 BF16) a 3x3 convolution's forward and
/// backward take about half the time in bfloat16; on a GPU the tensor cores do the same. Outside a
/// scope, or with it off, every layer runs as it always does.
/// </summary>
public static class Autocast
{
    [ThreadStatic] private static ScalarType? lowPrecision;

    /// <summary>The low-precision type in effect on this thread, or null (full float32).</summary>
    public static ScalarType? Active => lowPrecision;

    /// <summary>Runs conv and linear layers in <paramref name="dtype"/> until the scope is disposed (null: float32).</summary>
    public static Scope Enable(ScalarType? dtype)
    {
        var previous = lowPrecision;
        lowPrecision = dtype;
        return new Scope(previous);
    }

    public readonly struct Scope(ScalarType? previous) : IDisposable
    {
        public void Dispose() => lowPrecision = previous;
    }

    /// <summary>
    /// <paramref name="layer"/>'s forward under the autocast in effect: conv and linear layers in the
    /// low-precision type, a Sequential layer by layer, any other layer as it is.
    /// </summary>
    public static Tensor ForwardAutocast(this nn.Module<Tensor, Tensor> layer, Tensor input)
    {
        if (lowPrecision is not { } dtype) return layer.forward(input);
        switch (layer)
        {
            case Conv2d { padding: not null, padding_mode: TorchSharp.PaddingModes.Zeros } conv:
            {
                using var x = input.to(dtype);
                using var weight = IsChannelsLastOnCuda(x) ? CastChannelsLast(conv.weight!, dtype) : conv.weight!.to(dtype);
                using var bias = conv.bias?.to(dtype);
                return nn.functional.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups);
            }
            case Linear linear:
            {
                using var x = input.to(dtype);
                using var weight = linear.weight.to(dtype);
                using var bias = linear.bias?.to(dtype);
                return nn.functional.linear(x, weight, bias);
            }
            case Sequential sequential:
            {
                var x = input.alias();
                foreach (var child in sequential.children())
                    x = x.Consume(((nn.Module<Tensor, Tensor>)child).ForwardAutocast);
                return x;
            }
            default:
                return layer.forward(input);
        }
    }

    /// <summary>
    /// A 4-D weight cast to <paramref name="dtype"/> and laid out channels-last in one copy, with
    /// its gradient flowing back to the float32 weight. cuDNN convolves a channels-last input with a
    /// channels-last weight; given the plain cast (NCHW), it converts the weight again in the forward
    /// and in the backward pass, two extra kernels per convolution per step (38 for ResNet-20), which
    /// on a GPU is time: a step that small is bound by kernel launches.
    /// </summary>
    public static Tensor CastChannelsLast(Tensor weight, ScalarType dtype)
    {
        using var nhwcWeight = weight.permute(0, 2, 3, 1);
        using var packed = empty(nhwcWeight.shape, dtype, weight.device);
        using var copied = packed.copy_(nhwcWeight); // its own handle in some TorchSharp versions
        return copied.permute(0, 3, 1, 2);
    }

    // On the CPU oneDNN reorders weights into its own blocked layout whatever they come in, so the plain cast is kept there.
    private static bool IsChannelsLastOnCuda(Tensor x) =>
        x.device_type == TorchSharp.DeviceType.CUDA && x.dim() == 4 && x.size(1) > 1 && x.stride(1) == 1;
}
