using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Pruning;

/// <summary>
/// One binary tensor (float 0/1, same shape as its weight) per prunable weight tensor: 1 keeps
/// the weight, 0 prunes it. Owns its tensors. Saved as a tensor file plus a JSON summary with
/// the sparsity of each tensor, so a user can read both back without TicketLab.
/// </summary>
public sealed class Mask : IDisposable
{
    private readonly SortedDictionary<string, Tensor> tensors = new(StringComparer.Ordinal);

    public Mask(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, tensor) in tensors)
        {
            var values = tensor.to_type(ScalarType.Float32).cpu();
            using (var nonBinary = values.ne(0).logical_and(values.ne(1)).any())
                if (nonBinary.item<bool>()) throw new ArgumentException($"Mask tensor '{name}' holds values other than 0 and 1.");
            this.tensors[name] = values.DetachFromDisposeScope();
        }
    }

    /// <summary>The dense mask: every prunable weight kept.</summary>
    public static Mask Ones(TicketModel model)
    {
        var parameters = model.NamedParameterMap();
        using var scope = NewDisposeScope();
        return new(model.PrunableParameterNames.Select(n => KeyValuePair.Create(n, ones_like(parameters[n]).cpu())));
    }

    public IReadOnlyCollection<string> Names => tensors.Keys;
    public Tensor this[string name] => tensors[name];
    public bool Contains(string name) => tensors.ContainsKey(name);

    public long Total(string name) => tensors[name].numel();
    public long Remaining(string name)
    {
        using var sum = tensors[name].sum();
        return (long)sum.item<float>();
    }
    public long TotalWeights => tensors.Values.Sum(t => t.numel());
    public long RemainingWeights => tensors.Keys.Sum(Remaining);
    /// <summary>Fraction of the masked weights that are kept.</summary>
    public double Density => (double)RemainingWeights / TotalWeights;
    public double Sparsity => 1 - Density;

    /// <summary>Zeroes pruned weights of the model in place.</summary>
    public void ApplyTo(TicketModel model)
    {
        using var _ = no_grad();
        var parameters = model.NamedParameterMap();
        foreach (var (name, mask) in tensors)
        {
            if (!parameters.TryGetValue(name, out var weight))
                throw new InvalidDataException($"The mask names '{name}', which the model does not have.");
            using var onDevice = mask.to(weight.device);
            weight.mul_(onDevice);
        }
    }

    public void Save(string tensorPath, string summaryPath)
    {
        TensorFile.Save(tensorPath, tensors.Select(p => (p.Key, p.Value)));
        var perTensor = new JsonObject();
        foreach (var name in tensors.Keys)
        {
            perTensor[name] = new JsonObject
            {
                ["shape"] = new JsonArray(tensors[name].shape.Select(s => (JsonNode)s).ToArray()),
                ["total"] = Total(name),
                ["remaining"] = Remaining(name),
                ["sparsity"] = 1 - (double)Remaining(name) / Total(name),
            };
        }
        var summary = new JsonObject
        {
            ["format"] = "TicketLab mask: tensors in mask.bin (TensorFile: name, dtype, shape, raw little-endian float32 0/1)",
            ["total"] = TotalWeights,
            ["remaining"] = RemainingWeights,
            ["sparsity"] = Sparsity,
            ["tensors"] = perTensor,
        };
        AtomicFile.WriteText(summaryPath, summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static Mask Load(string tensorPath)
    {
        var loaded = TensorFile.Load(tensorPath);
        try
        {
            return new Mask(loaded);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{tensorPath}: {e.Message}", e);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}

/// <summary>
/// Keeps pruned weights at exactly zero. Once the weights are masked, masking the gradients
/// suffices: with a zero weight and a zero gradient, weight decay adds zero, the momentum buffer
/// stays zero and Adam's update is zero, so the optimizer never moves a pruned weight.
/// </summary>
public sealed class MaskConstraint : Training.IParameterConstraint
{
    private readonly (Tensor Weight, Tensor Mask)[] pairs;

    public MaskConstraint(TicketModel model, Mask mask)
    {
        var parameters = model.NamedParameterMap();
        pairs = mask.Names.Select(n => (parameters[n], mask[n].to(parameters[n].device).DetachFromDisposeScope())).ToArray();
    }

    public void BeforeOptimizerStep()
    {
        foreach (var (weight, mask) in pairs)
        {
            // Each read of .grad makes a new native handle: release it at once.
            using var grad = weight.grad;
            grad?.mul_(mask);
        }
    }

    public void Apply()
    {
        using var _ = no_grad();
        foreach (var (weight, mask) in pairs) weight.mul_(mask);
    }
}
