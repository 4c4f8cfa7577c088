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
    /// two gathers (no per-image loop); the random draws come from <paramref name="generator"/>
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
        var rowRange = arange(h, ScalarType.Int64, device);
        var colRange = arange(w, ScalarType.Int64, device);
        var rows = offsets[0].unsqueeze(1) + rowRange.unsqueeze(0);                                  // [B, H]
        var cols = offsets[1].unsqueeze(1) + where(flips.unsqueeze(1), colRange.flip(0), colRange);   // [B, W]
        var rowIndex = rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * padding);
        var cropped = padded.gather(2, rowIndex);                                                    // [B, C, H, W + 2p]
        var colIndex = cols.view(b, 1, 1, w).expand(b, c, h, w);
        return cropped.gather(3, colIndex).MoveToOuterDisposeScope();                                // [B, C, H, W]
    }
}
