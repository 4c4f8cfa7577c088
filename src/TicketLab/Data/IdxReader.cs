using System.Buffers.Binary;
using System.IO.Compression;

namespace TicketLab.Data;

/// <summary>The contents of an IDX image file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> uint8 pixels, row-major.</summary>
public sealed class IdxImages
{
    public IdxImages(string path, int count, int rows, int columns, byte[] pixels)
    {
        if ((long)count * rows * columns != pixels.LongLength)
        {
            throw new ArgumentException($"{count} x {rows} x {columns} pixels expected, got {pixels.LongLength}.", nameof(pixels));
        }

        Path = path;
        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
    }

    public string Path { get; }

    public int Count { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The raw pixel bytes, image after image, each row-major.</summary>
    public byte[] Pixels { get; }
}

/// <summary>The contents of an IDX label file.</summary>
public sealed class IdxLabels
{
    public IdxLabels(string path, byte[] labels)
    {
        Path = path;
        Labels = labels;
    }

    public string Path { get; }

    public int Count => Labels.Length;

    /// <summary>The raw label bytes.</summary>
    public byte[] Labels { get; }
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (big-endian header, uint8 data), plain or
/// gzip-compressed. Compression is detected from the gzip magic bytes (1f 8b), not the file name.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of uint8 values with 3 dimensions (images N, H, W).</summary>
    public const int ImagesMagic = 0x0803;

    /// <summary>Magic number of an IDX file of uint8 values with 1 dimension (labels N).</summary>
    public const int LabelsMagic = 0x0801;

    private const int ReadBufferSize = 1 << 16;

    public static IdxImages ReadImages(string path)
    {
        using var stream = OpenDecompressed(path);
        try
        {
            Span<byte> header = stackalloc byte[16];
            ReadHeader(stream, path, header, ImagesMagic, "IDX images");
            var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
            var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
            var columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
            if (count < 0 || rows < 1 || columns < 1)
            {
                throw new DatasetFormatException(path, $"invalid dimensions {count} x {rows} x {columns} in the header");
            }

            var total = (long)count * rows * columns;
            if (total > Array.MaxLength)
            {
                throw new DatasetFormatException(path, $"header claims {count} x {rows} x {columns} pixels, more than this reader supports");
            }

            var pixels = GC.AllocateUninitializedArray<byte>((int)total);
            var got = ReadFully(stream, pixels);
            if (got < total)
            {
                throw new DatasetFormatException(path,
                    $"truncated file: the header says {count} images of {rows}x{columns} ({total} bytes of pixels) but only {got} bytes follow");
            }

            EnsureEnd(stream, path);
            return new IdxImages(path, count, rows, columns, pixels);
        }
        catch (InvalidDataException e)
        {
            throw CorruptGzip(path, e);
        }
    }

    public static IdxLabels ReadLabels(string path)
    {
        using var stream = OpenDecompressed(path);
        try
        {
            Span<byte> header = stackalloc byte[8];
            ReadHeader(stream, path, header, LabelsMagic, "IDX labels");
            var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
            if (count < 0)
            {
                throw new DatasetFormatException(path, $"invalid label count {count} in the header");
            }

            var labels = GC.AllocateUninitializedArray<byte>(count);
            var got = ReadFully(stream, labels);
            if (got < count)
            {
                throw new DatasetFormatException(path, $"truncated file: the header says {count} labels but only {got} bytes follow");
            }

            EnsureEnd(stream, path);
            return new IdxLabels(path, labels);
        }
        catch (InvalidDataException e)
        {
            throw CorruptGzip(path, e);
        }
    }

    /// <summary>True if the file starts with the gzip magic bytes 1f 8b.</summary>
    public static bool IsGzip(string path)
    {
        using var file = OpenRead(path, 1);
        return IsGzip(file);
    }

    /// <summary>Opens a file for reading, transparently decompressing it when it is gzip.</summary>
    public static Stream OpenDecompressed(string path)
    {
        var file = OpenRead(path, ReadBufferSize);
        try
        {
            var gzip = IsGzip(file);
            file.Position = 0;
            return gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: false) : file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens a data file; a file that exists but cannot be read is a data fault that names the file.</summary>
    public static FileStream OpenRead(string path, int bufferSize = ReadBufferSize)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, FileOptions.SequentialScan);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DatasetFormatException(path, "cannot be read (permission denied); make it readable or point --data-dir at a readable copy", e);
        }
    }

    /// <summary>
    /// Reads to the end of the stream. For gzip this is what checks the trailer's CRC-32 and length,
    /// so a corrupted payload cannot pass as data; bytes beyond what the header describes are a fault too.
    /// </summary>
    private static void EnsureEnd(Stream stream, string path)
    {
        var buffer = new byte[ReadBufferSize];
        long extra = 0;
        for (int n; (n = stream.Read(buffer)) > 0;) extra += n;
        if (extra > 0)
            throw new DatasetFormatException(path, $"{extra} bytes follow the data its header describes; the file is damaged or not an IDX file");
    }

    private static DatasetFormatException CorruptGzip(string path, InvalidDataException inner) =>
        new(path, "corrupt gzip data: the compressed stream is malformed or fails its CRC-32 check. Replace the file with a good copy (--download fetches one)", inner);

    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        return file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    /// <summary>Reads the header, checking the magic number first (so a short file of the wrong kind reports its magic).</summary>
    private static void ReadHeader(Stream stream, string path, Span<byte> header, int expectedMagic, string kind)
    {
        var got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got >= 4)
        {
            CheckMagic(path, header, expectedMagic, kind);
        }

        if (got < header.Length)
        {
            throw new DatasetFormatException(path, $"truncated file: {got} bytes, too short for the {header.Length}-byte {kind} header");
        }
    }

    private static void CheckMagic(string path, ReadOnlySpan<byte> header, int expected, string kind)
    {
        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expected)
        {
            var hint = magic switch
            {
                ImagesMagic => "; this is an IDX images file",
                LabelsMagic => "; this is an IDX labels file",
                _ => "",
            };
            throw new DatasetFormatException(path, $"wrong magic number {magic}, expected {expected} ({kind}){hint}");
        }
    }

    private static long ReadFully(Stream stream, byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer, total, buffer.Length - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
