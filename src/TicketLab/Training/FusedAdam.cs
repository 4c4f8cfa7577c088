using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// Adam (PyTorch's arithmetic, no amsgrad) that updates each float32 CPU parameter in one pass
/// over its values, gradient and moments, instead of TorchSharp's eight tensor operations, each a
/// pass of its own. A stacked model's tensors are N networks large (8 LeNet-300-100s: 8.5 MB per
/// tensor of state), too large for the caches, so the passes are bound by memory: in
/// bench/TicketLab.Bench <c>stacked-step</c>, Adam took half of a stacked step at 2 threads. Same
/// operations element by element in float32, so values agree with <see cref="Adam"/>'s to rounding
/// (fused multiply-adds); same state objects, so checkpoints are <see cref="Adam"/>'s format.
/// Parameters it cannot update this way (another dtype or device, a closure) take Adam's own step.
/// One thread: split over two (Parallel.For) it was no faster, the pass being bound by memory, and
/// its threads competed with libtorch's spinning OpenMP workers.
/// </summary>
public sealed class FusedAdam : Adam
{
    private readonly Parameter[] tensors;
    private readonly State[] states;

    public FusedAdam(IEnumerable<Parameter> parameters, double lr, double weightDecay) : base(parameters, lr, weight_decay: weightDecay)
    {
        tensors = base.parameters().ToArray();
        states = tensors.Select(p => (State)_state[p.Handle]).ToArray();
    }

    public override unsafe Tensor step(Func<Tensor>? closure = null)
    {
        var options = (Options)_parameter_groups[0].Options;
        if (closure is not null || _parameter_groups.Count != 1 || options.amsgrad == true || options.maximize == true || !tensors.All(Fusable))
            return base.step(closure);
        using var _ = no_grad();
        double lr = options.LearningRate!.Value, beta1 = options.beta1!.Value, beta2 = options.beta2!.Value;
        double eps = options.eps!.Value, weightDecay = options.weight_decay!.Value;
        for (int i = 0; i < tensors.Length; i++)
        {
            using var grad = tensors[i].grad;
            if (grad is null) continue; // as Adam: no gradient, no step
            if (!Fusable(grad)) throw new InvalidOperationException("a gradient is not a contiguous float32 CPU tensor");
            var state = states[i];
            state.step += 1;
            state.exp_avg ??= zeros_like(tensors[i]).DetachFromDisposeScope();
            state.exp_avg_sq ??= zeros_like(tensors[i]).DetachFromDisposeScope();
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);
            var step = new Coefficients((float)beta1, (float)beta2, (float)eps, (float)weightDecay, (float)(lr / correction1), (float)Math.Sqrt(correction2));
            UpdateRange(Pointer(tensors[i]), Pointer(grad), Pointer(state.exp_avg), Pointer(state.exp_avg_sq), tensors[i].numel(), step);
        }
        return null!;
    }

    private readonly record struct Coefficients(float Beta1, float Beta2, float Eps, float WeightDecay, float StepSize, float SqrtCorrection2);

    private static bool Fusable(Tensor t) => t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous();

    private static unsafe void UpdateRange(float* value, float* grad, float* mean, float* square, long count, Coefficients c)
    {
        long i = 0;
        int width = Vector<float>.Count;
        var beta1 = new Vector<float>(c.Beta1); var keep1 = new Vector<float>(1 - c.Beta1);
        var beta2 = new Vector<float>(c.Beta2); var keep2 = new Vector<float>(1 - c.Beta2);
        var eps = new Vector<float>(c.Eps); var decay = new Vector<float>(c.WeightDecay);
        var stepSize = new Vector<float>(c.StepSize); var sqrtCorrection2 = new Vector<float>(c.SqrtCorrection2);
        for (; i + width <= count; i += width)
        {
            var p = *(Vector<float>*)(value + i);
            var g = *(Vector<float>*)(grad + i) + p * decay;
            var m = *(Vector<float>*)(mean + i) * beta1 + g * keep1;
            var v = *(Vector<float>*)(square + i) * beta2 + g * g * keep2;
            *(Vector<float>*)(mean + i) = m;
            *(Vector<float>*)(square + i) = v;
            *(Vector<float>*)(value + i) = p - stepSize * m / (Vector.SquareRoot(v) / sqrtCorrection2 + eps);
        }
        for (; i < count; i++)
        {
            float p = value[i], g = grad[i] + p * c.WeightDecay;
            float m = mean[i] = mean[i] * c.Beta1 + g * (1 - c.Beta1);
            float v = square[i] = square[i] * c.Beta2 + g * g * (1 - c.Beta2);
            value[i] = p - c.StepSize * m / (MathF.Sqrt(v) / c.SqrtCorrection2 + c.Eps);
        }
    }

    private static unsafe float* Pointer(Tensor tensor) => (float*)FlatSgd.DataPointer(tensor);
}
