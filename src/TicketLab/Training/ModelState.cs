using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>Saving and loading a model's parameters and buffers (its state dict) by name.</summary>
public static class ModelState
{
    public static void Save(nn.Module model, string path) =>
        TensorFile.Save(path, model.state_dict().Select(p => (p.Key, p.Value)));

    public static void Write(nn.Module model, Stream stream) =>
        TensorFile.Write(stream, model.state_dict().Select(p => (p.Key, p.Value)));

    public static void Load(nn.Module model, string path)
    {
        var tensors = TensorFile.Load(path);
        try
        {
            Copy(model, tensors, path);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Copies values into the model in place; every name must match in name and shape.</summary>
    public static void Copy(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        using var _ = no_grad();
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !tensors.ContainsKey(k)).ToArray();
        if (missing.Length > 0)
            throw new InvalidDataException($"{source}: does not match the model: missing {string.Join(", ", missing.Take(5))}.");
        foreach (var (name, target) in state)
        {
            var value = tensors[name];
            if (!value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: '{name}' has shape [{string.Join(",", value.shape)}], the model expects [{string.Join(",", target.shape)}].");
            target.copy_(value);
        }
    }

    /// <summary>A detached copy of every tensor of the state dict, on the CPU.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().cpu().clone());
}

/// <summary>
/// The resumable state of a run: the step to continue from, how many metric rows had been
/// logged before that step, the state of callbacks that accumulate across steps, the model and
/// the optimizer (its momentum buffers included). Written atomically in one checksummed file.
/// </summary>
/// <param name="Run">The run the checkpoint belongs to (its manifest's name); null in checkpoints written before runs had names.</param>
public sealed record CheckpointHeader(Step Step, int MetricRows, JsonObject CallbackState, string? Run);
