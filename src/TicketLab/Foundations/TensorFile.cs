using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Foundations;

/// <summary>
/// A named set of tensors in one file: model states, optimizer-free snapshots and masks. Plain
/// little-endian layout (name, dtype, shape, raw bytes) followed by the SHA-256 of those bytes,
/// so that any tool can read it back and TicketLab notices a single flipped bit. Written through
/// <see cref="AtomicFile"/>, so a crash never leaves half a file.
/// </summary>
public static class TensorFile
{
    private const string Magic = "TLTENSORS2";
    /// <summary>The first layout, without a checksum: still read, so older stores stay usable.</summary>
    private const string LegacyMagic = "TLTENSORS1";
    private const int MaxDimensions = 16;

    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, tensors));

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.ToList();
        using (var magic = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) magic.Write(Magic);
        Checksummed.Write(stream, body =>
        {
            using var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true);
            writer.Write(list.Count);
            foreach (var (name, tensor) in list)
            {
                using var scope = NewDisposeScope();
                var cpu = tensor.detach().cpu().contiguous();
                writer.Write(name);
                writer.Write((int)cpu.dtype);
                writer.Write((int)cpu.dim());
                foreach (long size in cpu.shape) writer.Write(size);
                var bytes = cpu.bytes;
                writer.Write((long)bytes.Length);
                writer.Write(bytes);
            }
        });
    }

    /// <summary>Reads a tensor file; every fault names the file and says how to recover.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Read(stream);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{path}: damaged or unreadable tensor file ({e.Message}). {RecoveryAdvice}", e);
        }
    }

    /// <summary>What a user can do about a damaged file in the store: results are recomputed from their hyperparameters.</summary>
    public const string RecoveryAdvice = "Delete the run folder that holds it (or the file, if it is a checkpoint) and run the command again to recompute it.";

    public static Dictionary<string, Tensor> Read(Stream stream)
    {
        string magic;
        using (var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true)) magic = ReadMagic(reader);
        return magic switch
        {
            Magic => Checksummed.Read(stream, ReadTensors),
            LegacyMagic => ReadTensors(stream),
            _ => throw new InvalidDataException("not a TicketLab tensor file (bad magic)"),
        };
    }

    private static string ReadMagic(BinaryReader reader)
    {
        try { return reader.ReadString(); }
        catch (Exception e) when (e is FormatException or IOException) { throw new InvalidDataException("not a TicketLab tensor file (bad magic)"); }
    }

    private static Dictionary<string, Tensor> ReadTensors(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        int count = reader.ReadInt32();
        if (count is < 0 or > 100_000) throw new InvalidDataException($"garbled header: {count} tensors");
        var result = new Dictionary<string, Tensor>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                if (!Enum.IsDefined(dtype)) throw new InvalidDataException($"garbled header: tensor '{name}' has unknown dtype {(int)dtype}");
                int dims = reader.ReadInt32();
                if (dims is < 0 or > MaxDimensions) throw new InvalidDataException($"garbled header: tensor '{name}' has {dims} dimensions");
                var shape = new long[dims];
                for (int d = 0; d < dims; d++)
                {
                    shape[d] = reader.ReadInt64();
                    if (shape[d] < 0) throw new InvalidDataException($"garbled header: tensor '{name}' has a negative size");
                }
                long length = reader.ReadInt64();
                var tensor = empty(shape, dtype);
                long expected = tensor.numel() * tensor.ElementSize;
                if (length != expected)
                {
                    tensor.Dispose();
                    throw new InvalidDataException($"garbled header: tensor '{name}' declares {length} bytes, its shape needs {expected}");
                }
                byte[] bytes = reader.ReadBytes(checked((int)length));
                if (bytes.Length != length)
                {
                    tensor.Dispose();
                    throw new EndOfStreamException($"tensor '{name}' is truncated");
                }
                if (length > 0) tensor.bytes = bytes;
                result[name] = tensor;
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }
}

/// <summary>Write-then-rename, so readers see the old file or the new one, never a partial one.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static void WriteText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
}
