using System.Collections;
using TicketLab.Foundations;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TicketLab.Interop;

/// <summary>
/// PyTorch's own file format for a dict of tensors (what <c>torch.save(model.state_dict(), path)</c>
/// writes: a zip archive with a pickled dict and one entry of raw bytes per tensor), written and
/// read with TorchSharp.PyBridge. <c>torch.load</c> reads the files written here (PyTorch 1.13 and
/// later, with <c>weights_only=True</c> too); files that PyTorch 1.6 and later wrote are read.
/// </summary>
public static class PyTorchFile
{
    /// <summary>Writes the tensors as a dict in the given order; atomically, like every file TicketLab writes.</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var scope = NewDisposeScope();
        // PyTorch stores tensors with their own storage; contiguous CPU copies have offset 0 and dense strides.
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors) dict[name] = tensor.detach().cpu().contiguous();
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, dict, leaveOpen: true));
    }

    /// <summary>Reads a dict of tensors written by <c>torch.save</c>; a file that is not one is an error naming it.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException or NotImplementedException
                                      or InvalidCastException or ArgumentException or KeyNotFoundException or NullReferenceException
                                      or Razorvine.Pickle.PickleException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a PyTorch file of tensors that TicketLab can read ({e.Message.TrimEnd('.')}). "
                + "It must be a dict of tensors saved with torch.save by PyTorch 1.6 or later (zip format).", e);
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string name || entry.Value is not Tensor tensor)
            {
                foreach (var t in result.Values) t.Dispose();
                throw new InvalidDataException($"{path}: holds '{entry.Key}' = {entry.Value?.GetType().Name ?? "None"}; expected a dict of tensors (a state_dict or a mask).");
            }
            result[name] = tensor;
        }
        return result;
    }
}
