using System.Text;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Foundations;

/// <summary>
/// A named set of tensors in one file: model states and masks. The layout is safetensors
/// (huggingface/safetensors: an 8-byte little-endian header length, a JSON header giving each
/// tensor's dtype, shape and byte range, then the raw little-endian bytes), so Python reads it with
/// <c>safetensors.safe_open</c> or a few lines of <c>json</c> and <c>numpy</c>. The header's
/// <c>__metadata__</c> carries a SHA-256 over the index and the bytes, so TicketLab notices a single
/// flipped bit. Written through <see cref="AtomicFile"/>, so a crash never leaves half a file.
/// </summary>
public static class TensorFile
{
    /// <summary>The earlier TicketLab layout (name, dtype, shape, raw bytes), still read so older stores stay usable.</summary>
    private const string LegacyMagic = "TLTENSORS1";
    private const int MaxDimensions = 16;
    private const long MaxHeaderBytes = 100 << 20;
    private const string ChecksumKey = "ticketlab_sha256";

    private static readonly (ScalarType Type, string Name)[] DTypes =
    [
        (ScalarType.Float32, "F32"), (ScalarType.Float64, "F64"), (ScalarType.Float16, "F16"), (ScalarType.BFloat16, "BF16"),
        (ScalarType.Int64, "I64"), (ScalarType.Int32, "I32"), (ScalarType.Int16, "I16"), (ScalarType.Int8, "I8"),
        (ScalarType.Byte, "U8"), (ScalarType.Bool, "BOOL"),
    ];

    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, tensors));

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var entries = new List<(string Name, string DType, long[] Shape, byte[] Bytes)>();
        foreach (var (name, tensor) in tensors)
        {
            using var scope = NewDisposeScope();
            var cpu = tensor.detach().cpu().contiguous();
            string dtype = DTypes.FirstOrDefault(d => d.Type == cpu.dtype).Name
                ?? throw new NotSupportedException($"tensor '{name}' has dtype {cpu.dtype}, which has no safetensors name");
            entries.Add((name, dtype, cpu.shape, cpu.bytes.ToArray()));
        }
        var header = new JsonObject();
        long offset = 0;
        foreach (var (name, dtype, shape, bytes) in entries)
        {
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
        }
        header["__metadata__"] = new JsonObject { ["writer"] = "TicketLab", [ChecksumKey] = Checksum(header, entries.Select(e => (ReadOnlyMemory<byte>)e.Bytes)) };
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the data starts 8-byte aligned, padded with spaces as the format allows
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var entry in entries) stream.Write(entry.Bytes);
    }

    /// <summary>SHA-256 over each tensor's name, dtype, shape and byte range, then every byte: no field can change unseen.</summary>
    private static string Checksum(JsonObject header, IEnumerable<ReadOnlyMemory<byte>> data)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (name, entry) in header)
        {
            if (name == "__metadata__") continue;
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{entry!["dtype"]}|{entry["shape"]!.ToJsonString()}|{entry["data_offsets"]!.ToJsonString()}\n"));
        }
        foreach (var bytes in data) hash.AppendData(bytes.Span);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>Reads a tensor file; every fault names the file and says how to recover.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Read(stream);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{path}: damaged or unreadable tensor file ({e.Message}). {RecoveryAdvice}", e);
        }
    }

    /// <summary>What a user can do about a damaged file in the store: results are recomputed from their hyperparameters.</summary>
    public const string RecoveryAdvice = "Delete the run folder that holds it (or the file, if it is a checkpoint) and run the command again to recompute it.";

    /// <summary>Reads one tensor file from the stream's position, consuming exactly its bytes.</summary>
    public static Dictionary<string, Tensor> Read(Stream stream)
    {
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        // A legacy file starts with its magic as a length-prefixed string: 10, "TLTENSORS1".
        if (prefix[0] == LegacyMagic.Length && Encoding.ASCII.GetString(prefix[1..]) == LegacyMagic[..7])
        {
            var rest = new byte[LegacyMagic.Length - 7];
            stream.ReadExactly(rest);
            if (LegacyMagic[..7] + Encoding.ASCII.GetString(rest) != LegacyMagic) throw new InvalidDataException("not a tensor file (bad magic)");
            return ReadLegacy(stream);
        }
        ulong headerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength is 0 or > MaxHeaderBytes) throw new InvalidDataException($"garbled header: {headerLength} header bytes");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        if (JsonNode.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' ')) is not JsonObject header)
            throw new InvalidDataException("garbled header: not a JSON object");

        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            entries.Add(ParseEntry(name, node));
        }
        long expectedBegin = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin))
        {
            if (entry.Begin != expectedBegin) throw new InvalidDataException($"garbled header: tensor '{entry.Name}' does not start where the previous one ends");
            expectedBegin = entry.End;
        }
        var data = new byte[checked((int)expectedBegin)];
        stream.ReadExactly(data);
        if (header["__metadata__"]?[ChecksumKey] is JsonValue stored)
        {
            string actual = Checksum(header, entries.Select(e => new ReadOnlyMemory<byte>(data, (int)e.Begin, (int)(e.End - e.Begin))));
            if (stored.GetValue<string>() != actual) throw new InvalidDataException(Checksummed.MismatchMessage);
        }
        var result = new Dictionary<string, Tensor>(entries.Count);
        foreach (var (name, type, shape, begin, end) in entries)
        {
            var tensor = empty(shape, type);
            if (end > begin) tensor.bytes = data.AsSpan((int)begin, (int)(end - begin));
            result[name] = tensor;
        }
        return result;
    }

    private static (string Name, ScalarType Type, long[] Shape, long Begin, long End) ParseEntry(string name, JsonNode? node)
    {
        try
        {
            string dtype = (string)node!["dtype"]!;
            var type = DTypes.FirstOrDefault(d => d.Name == dtype);
            if (type.Name is null) throw new InvalidDataException($"garbled header: tensor '{name}' has unknown dtype {dtype}");
            var shape = node["shape"]!.AsArray().Select(s => (long)s!).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(o => (long)o!).ToArray();
            if (shape.Length > MaxDimensions || shape.Any(s => s < 0) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new InvalidDataException($"garbled header: tensor '{name}' has an impossible shape or byte range");
            using var probe = empty(0, type.Type);
            long expected = shape.Aggregate(1L, (a, b) => checked(a * b)) * probe.ElementSize;
            if (offsets[1] - offsets[0] != expected)
                throw new InvalidDataException($"garbled header: tensor '{name}' spans {offsets[1] - offsets[0]} bytes, its shape needs {expected}");
            return (name, type.Type, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or OverflowException)
        {
            throw new InvalidDataException($"garbled header: tensor '{name}' ({e.Message})");
        }
    }

    private static Dictionary<string, Tensor> ReadLegacy(Stream stream)
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

    // The store's JSON is read by people and tools, never embedded in HTML: no need to escape '+' or non-ASCII names.
    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions =
        new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes a JSON document of the store: indented, unescaped where JSON allows, ending with a newline.</summary>
    public static void WriteJson(string path, System.Text.Json.Nodes.JsonNode node) => WriteText(path, JsonText(node));

    /// <summary>The text <see cref="WriteJson"/> writes.</summary>
    public static string JsonText(System.Text.Json.Nodes.JsonNode node) => node.ToJsonString(JsonOptions) + "\n";

    public static void WriteText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
}
