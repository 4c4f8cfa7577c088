using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// SGD (momentum, weight decay, Nesterov) that updates all parameters with five tensor operations
/// instead of four per parameter. TorchSharp's <see cref="SGD"/> loops over the parameters, so a
/// ResNet-20 step (65 parameter tensors) launches some 260 small kernels from .NET. On a GPU a
/// step that small is bound by launches: on an H200, TicketLab's step took 9.2-11.8 ms against
/// PyTorch's 7.2-8.5 ms (its SGD updates lists of tensors at once, <c>foreach</c>); with this one,
/// 6.9-8.3 ms (bench/gpu.sh, docs/performance.md). Here the parameters are views into one flat buffer
/// (<c>set_</c>), as are the momentum buffers; each step concatenates the gradients and updates
/// the flat buffers. Same arithmetic, element by element, as <see cref="SGD"/>, whose state (and
/// so the checkpoint format) it keeps.
/// <para>
/// Anything that replaces a parameter's or momentum buffer's storage (a state load that does not
/// copy in place, say) is noticed before the next step, which then gathers them into the flat
/// buffers again; a step where a gradient is missing takes <see cref="SGD"/>'s own path, which
/// skips that parameter.
/// </para>
/// </summary>
public sealed class FlatSgd : SGD
{
    private readonly Parameter[] flatParameters;
    private readonly State[] states; // SGD's state of each parameter: loads refill these objects, never replace them
    private readonly long[] offsets; // where each parameter starts in the flat buffers, in elements
    private readonly long elementBytes;
    private Tensor values;
    private Tensor? momentumBuffer;

    /// <param name="flatten">false: TorchSharp's SGD as it is (its per-parameter loop), in SGD's state format.</param>
    public FlatSgd(IEnumerable<Parameter> parameters, double lr, double momentum, double weightDecay, bool nesterov, bool flatten = true)
        : base(parameters, lr, momentum, 0, weightDecay, nesterov)
    {
        Flattened = flatten;
        flatParameters = base.parameters().ToArray();
        states = flatParameters.Select(p => (State)_state[p.Handle]).ToArray();
        if (flatParameters.Length == 0) throw new ArgumentException("no parameters to optimize", nameof(parameters));
        var first = flatParameters[0];
        if (flatten && flatParameters.Any(p => p.dtype != first.dtype || p.device_type != first.device_type || p.device_index != first.device_index))
            throw new ArgumentException("flat buffers need parameters of one dtype and device", nameof(parameters));
        offsets = new long[flatParameters.Length];
        long total = 0;
        for (int i = 0; i < offsets.Length; i++) { offsets[i] = total; total += flatParameters[i].numel(); }
        elementBytes = first.ElementSize;
        values = empty(flatten ? total : 0, first.dtype, first.device).DetachFromDisposeScope();
        if (flatten) GatherValues();
    }

    /// <summary>Whether steps update the flat buffers (else SGD's own per-parameter step).</summary>
    public bool Flattened { get; }

    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (!Flattened || closure is not null || _parameter_groups.Count != 1) return base.step(closure);
        if (!ValuesAreFlat()) GatherValues();
        var options = (Options)_parameter_groups[0].Options;
        double momentum = options.momentum!.Value, dampening = options.dampening!.Value, weightDecay = options.weight_decay!.Value;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var gradients = new Tensor[flatParameters.Length];
        for (int i = 0; i < flatParameters.Length; i++)
        {
            var grad = flatParameters[i].grad;
            if (grad is null) return base.step(); // SGD skips a parameter without gradient: so must this step
            gradients[i] = grad.reshape(-1);
        }
        bool? momentumIsFlat = momentum == 0 ? null : MomentumIsFlat();
        if (momentumIsFlat == false) return base.step(); // partly initialised momentum: only SGD's own path reproduces it

        var update = cat(gradients);
        if (weightDecay != 0) update = update.add(values, alpha: weightDecay);
        if (momentum != 0)
        {
            if (momentumBuffer is null)
            {
                // SGD's first step: the buffer starts as the first update, as in PyTorch.
                momentumBuffer = update.clone().DetachFromDisposeScope();
                PointMomentumStates();
            }
            else momentumBuffer.mul_(momentum).add_(update, alpha: 1 - dampening);
            update = options.nesterov!.Value ? update.add(momentumBuffer, alpha: momentum) : momentumBuffer;
        }
        double lr = options.LearningRate!.Value;
        values.add_(update, alpha: options.maximize!.Value ? lr : -lr);
        return null!;
    }

    /// <summary>
    /// Writes the state as TorchSharp's SGD writes it: <c>save_state_dict</c> would name this type
    /// in the stream, and SGD would refuse to load it. Checkpoints load into either.
    /// </summary>
    public void SaveSgdState(BinaryWriter writer)
    {
        writer.Write(nameof(SGD));
        var dict = state_dict();
        writer.Write7BitEncodedInt64(dict.Options.Count); // SGD's counts are unsigned LEB128, as these
        writer.Write7BitEncodedInt64(dict.State.Count);
        foreach (var options in dict.Options) options.SaveStateDict(writer);
        foreach (var state in dict.State) state.SaveStateDict(writer);
    }

    /// <summary>Reads a state written by TorchSharp's SGD or by <see cref="SaveSgdState"/>.</summary>
    public void LoadSgdState(BinaryReader reader)
    {
        string name = reader.ReadString();
        if (name != nameof(SGD)) throw new InvalidDataException($"optimizer state of {name}, not SGD");
        var dict = state_dict();
        long options = reader.Read7BitEncodedInt64(), states = reader.Read7BitEncodedInt64();
        if (options != dict.Options.Count || states != dict.State.Count)
            throw new InvalidDataException($"optimizer state for {options} group(s) and {states} parameter(s), not {dict.Options.Count} and {dict.State.Count}");
        foreach (var groupOptions in dict.Options) groupOptions.LoadStateDict(reader);
        foreach (var state in dict.State) state.LoadStateDict(reader);
    }

    /// <summary>Copies every parameter into the flat buffer and makes it a view of its slice there.</summary>
    private void GatherValues()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var first = flatParameters[0];
        if (values.device_type != first.device_type || values.device_index != first.device_index)
        {
            // The model moved to another device: the flat buffer follows it.
            var moved = empty(values.shape, values.dtype, first.device).DetachFromDisposeScope();
            values.Dispose();
            values = moved;
        }
        for (int i = 0; i < flatParameters.Length; i++)
        {
            var slice = values.narrow(0, offsets[i], flatParameters[i].numel()).view(flatParameters[i].shape);
            slice.copy_(flatParameters[i]);
            flatParameters[i].set_(slice);
        }
    }

    /// <summary>
    /// Whether the momentum buffers are the flat buffer's slices (true), all absent before the first
    /// step (true, with no flat buffer), or otherwise (false, after gathering them where they all exist).
    /// </summary>
    private bool MomentumIsFlat()
    {
        if (momentumBuffer is not null && states.Select((s, i) => s.momentum_buffer is { } b && DataPointer(b) == SliceAddress(momentumBuffer, i)).All(ok => ok))
            return true;
        if (states.All(s => s.momentum_buffer is null))
        {
            momentumBuffer?.Dispose();
            momentumBuffer = null;
            return true;
        }
        if (states.Any(s => s.momentum_buffer is null)) return false;
        // Buffers replaced (a loaded checkpoint): gather them into a new flat buffer.
        using var noGrad = no_grad();
        var gathered = cat(states.Select(s => s.momentum_buffer.reshape(-1)).ToArray()).DetachFromDisposeScope();
        momentumBuffer?.Dispose();
        momentumBuffer = gathered;
        PointMomentumStates();
        return true;
    }

    private void PointMomentumStates()
    {
        for (int i = 0; i < flatParameters.Length; i++)
        {
            var state = states[i];
            var slice = momentumBuffer!.narrow(0, offsets[i], flatParameters[i].numel()).view(flatParameters[i].shape).DetachFromDisposeScope();
            if (!ReferenceEquals(state.momentum_buffer, slice)) state.momentum_buffer?.Dispose();
            state.momentum_buffer = slice;
        }
    }

    private bool ValuesAreFlat()
    {
        for (int i = 0; i < flatParameters.Length; i++)
            if (DataPointer(flatParameters[i]) != SliceAddress(values, i) || !flatParameters[i].is_contiguous()) return false;
        return true;
    }

    private IntPtr SliceAddress(Tensor flat, int i) => DataPointer(flat) + (nint)(offsets[i] * elementBytes);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // disposes the momentum states (slices)
        if (disposing)
        {
            momentumBuffer?.Dispose();
            values.Dispose(); // the parameters keep the storage alive as long as they need it
        }
    }

    // Where a tensor's first element is (TorchSharp exposes it only through a storage object that
    // makes a new tensor handle on every call): the shim's own entry point, no allocation.
    internal static IntPtr DataPointer(Tensor tensor) => THSTensor_data(tensor.Handle);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}
