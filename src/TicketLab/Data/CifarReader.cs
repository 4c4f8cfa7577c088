namespace TicketLab.Data;

/// <summary>Images and labels read from one or more CIFAR binary batch files.</summary>
public sealed class CifarBatch
{
    public CifarBatch(IReadOnlyList<string> paths, byte[] pixels, byte[] labels)
    {
        if (pixels.LongLength != (long)labels.Length * CifarReader.ImageBytes)
        {
            throw new ArgumentException($"{labels.Length} images of {CifarReader.ImageBytes} bytes expected, got {pixels.LongLength} bytes.", nameof(pixels));
        }

        Paths = paths;
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>The files read, in order.</summary>
    public IReadOnlyList<string> Paths { get; }

    public int Count => Labels.Length;

    /// <summary>Pixel bytes, image after image, each channel-major (CHW: 1024 red, 1024 green, 1024 blue).</summary>
    public byte[] Pixels { get; }

    /// <summary>One label byte per image (the fine label for CIFAR-100).</summary>
    public byte[] Labels { get; }
}

/// <summary>
/// Reads the CIFAR-10 and CIFAR-100 binary formats. A CIFAR-10 record is 1 label byte followed by
/// 3072 pixel bytes (32x32, CHW); a CIFAR-100 record is 2 label bytes (coarse, fine) followed by
/// the same 3072 bytes. The fine label is kept.
/// </summary>
public static class CifarReader
{
    public const int Channels = 3;
    public const int Height = 32;
    public const int Width = 32;
    public const int ImageBytes = Channels * Height * Width;

    /// <summary>Reads CIFAR-10 batch files (e.g. <c>data_batch_1.bin</c> .. <c>data_batch_5.bin</c>) and concatenates them.</summary>
    public static CifarBatch ReadCifar10(IReadOnlyList<string> paths) =>
        Read(paths, labelBytes: 1, labelIndex: 0, numClasses: 10);

    /// <summary>Reads CIFAR-100 files (<c>train.bin</c> or <c>test.bin</c>), keeping the fine (100-class) labels.</summary>
    public static CifarBatch ReadCifar100(IReadOnlyList<string> paths) =>
        Read(paths, labelBytes: 2, labelIndex: 1, numClasses: 100);

    /// <summary>
    /// Reads records of <paramref name="labelBytes"/> label bytes plus <see cref="ImageBytes"/> pixel bytes,
    /// keeping label byte <paramref name="labelIndex"/>, which must be below <paramref name="numClasses"/>.
    /// </summary>
    public static CifarBatch Read(IReadOnlyList<string> paths, int labelBytes, int labelIndex, int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(labelBytes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(labelIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(labelIndex, labelBytes);
        if (paths.Count == 0)
        {
            throw new ArgumentException("At least one CIFAR file is needed.", nameof(paths));
        }

        var recordBytes = labelBytes + ImageBytes;
        var counts = new int[paths.Count];
        long total = 0;
        for (var i = 0; i < paths.Count; i++)
        {
            var length = new FileInfo(paths[i]).Length;
            if (length % recordBytes != 0)
            {
                throw new DatasetFormatException(paths[i],
                    $"size {length} bytes is not a multiple of the {recordBytes}-byte record size ({labelBytes} label byte(s) + {ImageBytes} pixels); the file is truncated or not a CIFAR-{numClasses} binary file");
            }

            if (length == 0)
            {
                throw new DatasetFormatException(paths[i], $"is empty (0 bytes); a CIFAR-{numClasses} binary file holds {recordBytes}-byte records. Replace it with a good copy (--download fetches one)");
            }

            counts[i] = checked((int)(length / recordBytes));
            total += counts[i];
        }

        if (total * ImageBytes > Array.MaxLength)
        {
            throw new DatasetFormatException(paths[0], $"{total} images are more than this reader supports");
        }

        var pixels = GC.AllocateUninitializedArray<byte>((int)(total * ImageBytes));
        var labels = new byte[total];
        Span<byte> label = stackalloc byte[labelBytes];
        var image = 0;
        for (var i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            using var file = IdxReader.OpenRead(path, 1 << 20);
            for (var r = 0; r < counts[i]; r++, image++)
            {
                var ok = file.ReadAtLeast(label, labelBytes, throwOnEndOfStream: false) == labelBytes
                    && file.ReadAtLeast(pixels.AsSpan(image * ImageBytes, ImageBytes), ImageBytes, throwOnEndOfStream: false) == ImageBytes;
                if (!ok)
                {
                    throw new DatasetFormatException(path, $"truncated while reading record {r} (the file changed while it was read?)");
                }

                var value = label[labelIndex];
                if (value >= numClasses)
                {
                    throw new DatasetFormatException(path, $"label {value} of record {r} is out of range; CIFAR-{numClasses} has {numClasses} classes (0..{numClasses - 1})");
                }

                labels[image] = value;
            }
        }

        return new CifarBatch(paths.ToArray(), pixels, labels);
    }
}
