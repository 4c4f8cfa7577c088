using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Data;

/// <summary>Training-set augmentation applied to whole batches with tensor operations.</summary>
public static class Augmentation
{
    /// <summary>
    /// The standard CIFAR augmentation: zero-pad each image by <paramref name="padding"/> pixels on
    /// every side, take a random H x W crop (offsets uniform in [0, 2 * padding] per image), and
    /// flip each image horizontally with probability 0.5. Works on a whole batch [B, C, H, W] with
    /// a single gather (no per-image loop); the random draws come from <paramref name="generator"/>
    /// (first 2 x B offsets, rows then columns, then B flips), so the result is
    /// deterministic for a given generator state. Intermediate tensors are disposed; the result
    /// belongs to the caller's dispose scope.
    /// </summary>
    public static Tensor RandomCropAndFlip(Tensor batch, Generator generator, int padding = 4)
    {
        if (batch.dim() != 4)
        {
            throw new ArgumentException($"Expected a batch [B, C, H, W], got [{string.Join(", ", batch.shape)}].", nameof(batch));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        var (b, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3]);
        using var scope = NewDisposeScope();
        var device = batch.device;

        // Random draws on the generator's (CPU) device, then moved to the batch's device.
        var offsets = randint(0, 2 * padding + 1, [2, b], ScalarType.Int64, generator: generator);
        var flips = randint(0, 2, [b], ScalarType.Int64, generator: generator).to(ScalarType.Bool);
        offsets = offsets.to(device);
        flips = flips.to(device);

        var padded = padding > 0 ? nn.functional.pad(batch, [padding, padding, padding, padding]) : batch;
        var paddedWidth = w + 2 * padding;
        var rowRange = arange(h, ScalarType.Int64, device);
        var colRange = arange(w, ScalarType.Int64, device);
        var rows = offsets[0].unsqueeze(1) + rowRange.unsqueeze(0);                                   // [B, H]
        var cols = offsets[1].unsqueeze(1) + where(flips.unsqueeze(1), colRange.flip(0), colRange);   // [B, W]

        // One gather over the flattened padded plane: output pixel (i, j) of image b reads
        // padded[b, :, rows[b, i], cols[b, j]].
        var index = (rows.unsqueeze(2) * paddedWidth + cols.unsqueeze(1)).view(b, 1, h * w).expand(b, c, h * w);
        return padded.reshape(b, c, -1).gather(2, index).view(b, c, h, w).MoveToOuterDisposeScope();
    }
}
