using System.Buffers.Binary;
using System.Text;

namespace TicketLab.Reporting;

/// <summary>
/// A TensorBoard event file, written directly (TorchSharp's SummaryWriter stamps its first event
/// in .NET ticks). The file is a sequence of TFRecords (uint64 length, masked CRC-32C of those 8
/// bytes, the data, masked CRC-32C of the data, all little endian), each holding one serialized
/// <c>tensorflow.Event</c>: <c>wall_time</c> (field 1, double, Unix seconds), <c>step</c> (2, int64),
/// and either <c>file_version</c> (3, "brain.Event:2", the first record) or a <c>summary</c> (5)
/// with one <c>Summary.Value</c> of <c>tag</c> (1) and <c>simple_value</c> (2, float).
/// Every call appends its records and closes the file, so what is written is complete on disk.
/// </summary>
public sealed class TensorBoardEventFile
{
    public const string FileVersion = "brain.Event:2";
    private static int created;

    private TensorBoardEventFile(string path) => Path = path;

    public string Path { get; }

    /// <summary>A new event file in <paramref name="folder"/> (created if missing), named as TensorBoard's writers name theirs.</summary>
    public static TensorBoardEventFile Create(string folder)
    {
        Directory.CreateDirectory(folder);
        while (true)
        {
            double now = UnixSeconds();
            string name = $"events.out.tfevents.{(long)now}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref created)}";
            var file = new TensorBoardEventFile(System.IO.Path.Combine(folder, name));
            try
            {
                using var stream = new FileStream(file.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                WriteRecord(stream, Event(now, 0, summary: null, FileVersion));
                return file;
            }
            catch (IOException) when (File.Exists(file.Path))
            {
                // Another writer's file of the same name: take the next number.
            }
        }
    }

    /// <summary>Appends one event per scalar, stamped with the current time.</summary>
    public void AddScalars(IEnumerable<(string Tag, long Step, float Value)> scalars)
    {
        double now = UnixSeconds();
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        foreach (var (tag, step, value) in scalars)
            WriteRecord(stream, Event(now, step, ScalarSummary(tag, value), fileVersion: null));
    }

    /// <summary>Seconds since 1970-01-01 UTC, with their fraction: what TensorBoard expects in <c>wall_time</c>.</summary>
    public static double UnixSeconds() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    private static byte[] Event(double wallTime, long step, byte[]? summary, string? fileVersion)
    {
        var message = new MemoryStream();
        Key(message, 1, WireFixed64);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, wallTime);
        message.Write(bytes);
        Key(message, 2, WireVarint);
        Varint(message, unchecked((ulong)step));
        if (fileVersion is not null) LengthDelimited(message, 3, Encoding.UTF8.GetBytes(fileVersion));
        if (summary is not null) LengthDelimited(message, 5, summary);
        return message.ToArray();
    }

    private static byte[] ScalarSummary(string tag, float value)
    {
        var item = new MemoryStream();
        LengthDelimited(item, 1, Encoding.UTF8.GetBytes(tag));
        Key(item, 2, WireFixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        item.Write(bytes);
        var summary = new MemoryStream();
        LengthDelimited(summary, 1, item.ToArray());
        return summary.ToArray();
    }

    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2, WireFixed32 = 5;

    private static void Key(Stream s, int field, int wireType) => Varint(s, (ulong)((field << 3) | wireType));

    private static void Varint(Stream s, ulong value)
    {
        for (; value >= 0x80; value >>= 7) s.WriteByte((byte)(value | 0x80));
        s.WriteByte((byte)value);
    }

    private static void LengthDelimited(Stream s, int field, byte[] data)
    {
        Key(s, field, WireLengthDelimited);
        Varint(s, (ulong)data.Length);
        s.Write(data);
    }

    private static void WriteRecord(Stream stream, byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1; // CRC-32C (Castagnoli), reflected
        return c;
    }).ToArray();

    /// <summary>TFRecord's masked CRC-32C: the CRC rotated right by 15 bits, plus 0xa282ead8.</summary>
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
    }
}
