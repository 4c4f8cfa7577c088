using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Data;

/// <summary>
/// A whole dataset split in memory: <see cref="Images"/> float32 [N, C, H, W], normalized per
/// channel with the dataset's mean and std, and <see cref="Labels"/> int64 [N]. Owns its tensors
/// (they are detached from any dispose scope) and frees them in <see cref="Dispose"/>.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private bool disposed;

    /// <summary>Wraps existing tensors, taking ownership of them.</summary>
    public ImageDataset(DatasetInfo info, Tensor images, Tensor labels)
    {
        if (images.dtype != ScalarType.Float32 || images.dim() != 4
            || images.shape[1] != info.Channels || images.shape[2] != info.Height || images.shape[3] != info.Width)
        {
            throw new ArgumentException(
                $"Images must be float32 [N, {info.Channels}, {info.Height}, {info.Width}], got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        }

        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
        {
            throw new ArgumentException($"Labels must be int64 [{images.shape[0]}], got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        }

        Info = info;
        Images = images.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        Count = checked((int)images.shape[0]);
    }

    public DatasetInfo Info { get; }

    /// <summary>float32 [N, C, H, W], normalized per channel.</summary>
    public Tensor Images { get; }

    /// <summary>int64 [N], each in [0, <see cref="NumClasses"/>).</summary>
    public Tensor Labels { get; }

    public int Count { get; }

    /// <summary>The files the examples were read from, with their checksums (provenance of every run that uses them).</summary>
    public IReadOnlyList<DataFile> Files { get; init; } = [];

    public int NumClasses => Info.NumClasses;

    /// <summary>
    /// Builds a dataset from raw uint8 pixels (image after image, each C x H x W) and label bytes:
    /// one byte tensor, converted to float32, scaled to [0, 1] and normalized with broadcasting.
    /// </summary>
    /// <remarks>Labels are not range-checked here; <see cref="DatasetLoader"/> validates them first.</remarks>
    public static ImageDataset FromBytes(DatasetInfo info, byte[] pixels, byte[] labels, IReadOnlyList<DataFile>? files = null)
    {
        var count = labels.Length;
        if (pixels.LongLength != (long)count * info.ImageSize)
        {
            throw new ArgumentException($"{count} images of {info.ImageSize} bytes expected, got {pixels.Length} bytes.", nameof(pixels));
        }

        using var scope = NewDisposeScope();
        long[] shape = [count, info.Channels, info.Height, info.Width];
        var bytes = pixels.Length == 0 ? zeros(shape, ScalarType.Byte) : tensor(pixels, shape, ScalarType.Byte);
        var images = bytes.to(ScalarType.Float32).div_(255f);
        var mean = tensor(info.Mean.ToArray(), [1, info.Channels, 1, 1]);
        var std = tensor(info.Std.ToArray(), [1, info.Channels, 1, 1]);
        images.sub_(mean).div_(std);
        var labelTensor = count == 0 ? zeros(0, ScalarType.Int64) : tensor(labels, ScalarType.Byte).to(ScalarType.Int64);
        return new ImageDataset(info, images, labelTensor) { Files = files ?? [] };
    }

    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            Images.Dispose();
            Labels.Dispose();
        }
    }
}

/// <summary>A data file a dataset was read from: where, how large, and its SHA-256.</summary>
public sealed record DataFile(string Path, long Bytes, string Sha256)
{
    public static DataFile Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new DataFile(System.IO.Path.GetFullPath(path), stream.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)));
    }
}
