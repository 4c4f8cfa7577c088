using TicketLab.Foundations;
using TorchSharp;
using TorchSharp.Modules;
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
/// The resumable state of a run: the step to continue from, the model and the optimizer (its
/// momentum buffers included), written atomically in one file.
/// </summary>
public static class Checkpoint
{
    private const string Magic = "TLCHECKPOINT1";

    public static void Save(string path, Step step, nn.Module model, OptimizerHelper optimizer) =>
        AtomicFile.Write(path, stream =>
        {
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(step.Iteration);
                writer.Write(step.IterationsPerEpoch);
            }
            ModelState.Write(model, stream);
            using var optimizerWriter = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            optimizer.save_state_dict(optimizerWriter);
        });

    /// <summary>Restores model and optimizer; returns the step to continue from.</summary>
    public static Step Load(string path, nn.Module model, OptimizerHelper optimizer)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Step step;
            using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                if (reader.ReadString() != Magic) throw new InvalidDataException("bad magic");
                step = new Step(reader.ReadInt64(), reader.ReadInt32());
            }
            var tensors = TensorFile.Read(stream);
            try { ModelState.Copy(model, tensors, path); }
            finally { foreach (var t in tensors.Values) t.Dispose(); }
            using var optimizerReader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            optimizer.load_state_dict(optimizerReader);
            return step;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: unreadable checkpoint ({e.Message}). Delete it to restart the run from the beginning.", e);
        }
    }
}
