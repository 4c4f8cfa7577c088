using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Foundations;

/// <summary>
/// A named set of tensors in one file: model states, optimizer-free snapshots and masks. Plain
/// little-endian layout (name, dtype, shape, raw bytes) so that any tool can read it back.
/// Written through <see cref="AtomicFile"/>, so a crash never leaves half a file.
/// </summary>
public static class TensorFile
{
    private const string Magic = "TLTENSORS1";

    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, tensors));

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.ToList();
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
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
    }

    public static Dictionary<string, Tensor> Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Read(stream);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{path}: not a readable TicketLab tensor file ({e.Message}).", e);
        }
    }

    public static Dictionary<string, Tensor> Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic) throw new InvalidDataException("bad magic");
        int count = reader.ReadInt32();
        var result = new Dictionary<string, Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            var dtype = (ScalarType)reader.ReadInt32();
            int dims = reader.ReadInt32();
            var shape = new long[dims];
            for (int d = 0; d < dims; d++) shape[d] = reader.ReadInt64();
            long length = reader.ReadInt64();
            byte[] bytes = reader.ReadBytes(checked((int)length));
            if (bytes.Length != length) throw new EndOfStreamException($"tensor '{name}' is truncated");
            var tensor = empty(shape, dtype);
            if (length > 0) tensor.bytes = bytes;
            result[name] = tensor;
        }
        return result;
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
