using System.Buffers.Binary;

namespace TicketLab.Tests.Support.TensorBoard;

/// <summary>
/// TFRecord framing: uint64 length (little endian), masked CRC-32C of those 8 bytes, the data, masked CRC-32C
/// of the data (both CRCs uint32 little endian).
/// </summary>
public static class TfRecord
{
    public const int HeaderSize = 12, FooterSize = 4;

    public static void Write(Stream stream, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[FooterSize];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }

    /// <summary>
    /// The records of a TFRecord file, each with its offset, after checking both CRCs. Throws
    /// <see cref="InvalidDataException"/> naming the file and the record's offset on a CRC mismatch or truncation.
    /// </summary>
    public static IReadOnlyList<(long Offset, byte[] Data)> ReadAll(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        var records = new List<(long, byte[])>();
        long offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < HeaderSize)
                throw Bad(file, offset, $"truncated record header ({bytes.Length - offset} of {HeaderSize} bytes)");
            var header = bytes.AsSpan((int)offset, HeaderSize);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            if (lengthCrc != Crc32C.Masked(header[..8]))
                throw Bad(file, offset, $"length CRC mismatch (stored 0x{lengthCrc:x8}, computed 0x{Crc32C.Masked(header[..8]):x8})");
            long available = bytes.Length - offset - HeaderSize - FooterSize;
            if (length > (ulong)Math.Max(available, 0))
                throw Bad(file, offset, $"truncated record ({length} data bytes announced, {Math.Max(available, 0)} present)");
            var data = bytes.AsSpan((int)(offset + HeaderSize), (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)(offset + HeaderSize + (long)length), FooterSize));
            if (dataCrc != Crc32C.Masked(data))
                throw Bad(file, offset, $"data CRC mismatch (stored 0x{dataCrc:x8}, computed 0x{Crc32C.Masked(data):x8})");
            records.Add((offset, data.ToArray()));
            offset += HeaderSize + (long)length + FooterSize;
        }
        return records;
    }

    internal static InvalidDataException Bad(string file, long offset, string what) =>
        new($"Corrupt TFRecord file '{file}': record at byte offset {offset}: {what}.");
}
