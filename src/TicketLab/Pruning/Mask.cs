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

    public Mask(IEnumerable<KeyValuePair<string, Tensor>> tensors, string source = "a computed mask")
    {
        Source = source;
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

    /// <summary>Where the mask came from (its file), for error messages.</summary>
    public string Source { get; }

    public IReadOnlyCollection<string> Names => tensors.Keys;

    /// <summary>Every masked tensor must be a parameter of the model; a mask for another architecture is an error naming its file.</summary>
    public void CheckNames(TicketModel model)
    {
        var parameters = model.NamedParameterMap();
        if (tensors.Keys.FirstOrDefault(n => !parameters.ContainsKey(n)) is { } unknown)
            throw new InvalidDataException($"{Source}: names the tensor '{unknown}', which the model ({string.Join(", ", model.PrunableParameterNames.Take(4))}, ...) does not have. "
                + "The mask belongs to another architecture or is damaged; delete the level folder and run the command again.");
        foreach (var (name, mask) in tensors)
            if (!mask.shape.SequenceEqual(parameters[name].shape))
                throw new InvalidDataException($"{Source}: '{name}' has shape [{string.Join(",", mask.shape)}], the model's weight has [{string.Join(",", parameters[name].shape)}]. "
                    + "Delete the level folder and run the command again.");
    }
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
    // Each a single division of counts, so stored fractions carry no float noise (0.2, not 0.19999999999999996).
    public double Density => DataNumbers.Fraction(RemainingWeights, TotalWeights);
    public double Sparsity => DataNumbers.Fraction(TotalWeights - RemainingWeights, TotalWeights);

    /// <summary>Zeroes pruned weights of the model in place.</summary>
    public void ApplyTo(TicketModel model)
    {
        CheckNames(model);
        using var _ = no_grad();
        var parameters = model.NamedParameterMap();
        foreach (var (name, mask) in tensors)
        {
            var weight = parameters[name];
            using var onDevice = mask.to(weight.device);
            weight.mul_(onDevice);
        }
    }

    public void Save(string tensorPath, string summaryPath)
    {
        TensorFile.Save(tensorPath, tensors.Select(p => (p.Key, p.Value)));
        SaveSummary(summaryPath);
    }

    /// <summary>mask.json, the per-tensor counts beside mask.bin: the file a user reads, and a cross-check when loading.</summary>
    public static string SummaryPathOf(string tensorPath) => System.IO.Path.ChangeExtension(tensorPath, ".json");

    private void SaveSummary(string summaryPath)
    {
        var perTensor = new JsonObject();
        foreach (var name in tensors.Keys)
        {
            perTensor[name] = new JsonObject
            {
                ["shape"] = new JsonArray(tensors[name].shape.Select(s => (JsonNode)s).ToArray()),
                ["total"] = Total(name),
                ["remaining"] = Remaining(name),
                ["sparsity"] = DataNumbers.Fraction(Total(name) - Remaining(name), Total(name)),
            };
        }
        var summary = new JsonObject
        {
            ["format"] = "TicketLab mask: mask.bin is a safetensors file of float32 0/1 tensors, one per prunable weight",
            ["total"] = TotalWeights,
            ["remaining"] = RemainingWeights,
            ["sparsity"] = Sparsity,
            ["tensors"] = perTensor,
        };
        AtomicFile.WriteJson(summaryPath, summary);
    }

    /// <summary>
    /// Reads mask.bin (whose checksum proves it intact) and checks it against mask.json beside it,
    /// so a replaced mask cannot pass silently; a deleted mask.json is rebuilt from mask.bin.
    /// </summary>
    public static Mask Load(string tensorPath)
    {
        var loaded = TensorFile.Load(tensorPath);
        Mask mask;
        try
        {
            mask = new Mask(loaded, tensorPath);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{tensorPath}: {e.Message} {TensorFile.RecoveryAdvice}", e);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
        try
        {
            mask.CheckAgainstSummary(SummaryPathOf(tensorPath));
        }
        catch
        {
            mask.Dispose();
            throw;
        }
        return mask;
    }

    private void CheckAgainstSummary(string summaryPath)
    {
        if (JsonRead.ObjectFile(summaryPath) is not { } summary)
        {
            SaveSummary(summaryPath);
            return;
        }
        var perTensor = JsonRead.Object(summary, "tensors", summaryPath);
        var names = perTensor.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        if (!names.SequenceEqual(tensors.Keys, StringComparer.Ordinal))
            throw new InvalidDataException($"{Source}: holds tensors {string.Join(", ", tensors.Keys)} but {summaryPath} lists {string.Join(", ", names)}. {TensorFile.RecoveryAdvice}");
        foreach (var name in names)
        {
            long expected = JsonRead.Integer(JsonRead.Object(perTensor, name, summaryPath), "remaining", summaryPath);
            if (Remaining(name) != expected)
                throw new InvalidDataException($"{Source}: '{name}' keeps {Remaining(name)} weights but {summaryPath} records {expected}. {TensorFile.RecoveryAdvice}");
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
public sealed class MaskConstraint : Training.IMaskConstraint
{
    private readonly (Tensor Weight, Tensor Mask)[] pairs;

    public MaskConstraint(TicketModel model, Mask mask)
    {
        mask.CheckNames(model);
        var parameters = model.NamedParameterMap();
        pairs = mask.Names.Select(n => (parameters[n], mask[n].to(parameters[n].device).DetachFromDisposeScope())).ToArray();
        Masks = mask.Names.Select((n, i) => (n, pairs[i].Mask)).ToDictionary();
    }

    public IReadOnlyDictionary<string, Tensor> Masks { get; }

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
