using TicketLab.Data;
using TicketLab.Foundations;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// The minibatches of training, as a pure function of (seed, step): epoch e's order is a
/// permutation drawn from a generator seeded by (seed, e), and the augmentation of iteration i
/// from one seeded by (seed, i). Any step can therefore be reproduced without replaying the ones
/// before it, which is what makes resuming and rewinding exact.
/// </summary>
public sealed class TrainingBatches
{
    private readonly ImageDataset dataset;
    private readonly int batchSize;
    private readonly int seed;
    private readonly bool augment;
    private long cachedEpoch = -1;
    private Tensor? cachedOrder;

    public TrainingBatches(ImageDataset dataset, int batchSize, int seed, bool augment)
    {
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.seed = seed;
        this.augment = augment;
        IterationsPerEpoch = IterationsPerEpochOf(dataset.Count, batchSize);
    }

    public int IterationsPerEpoch { get; }

    /// <summary>Every example once per epoch; the last batch may be smaller.</summary>
    public static int IterationsPerEpochOf(int examples, int batchSize) => (examples + batchSize - 1) / batchSize;

    /// <summary>Examples and labels of the batch trained at <paramref name="step"/>, on the dataset's device.</summary>
    public (Tensor Images, Tensor Labels) At(Step step)
    {
        using var indices = IndicesAt(step);
        var images = dataset.Images.index_select(0, indices);
        var labels = dataset.Labels.index_select(0, indices);
        if (augment)
        {
            using var generator = new Generator(DeriveSeed(seed, 1, step.Iteration));
            images = Augmentation.RandomCropAndFlip(images, generator);
        }
        return (images, labels);
    }

    /// <summary>Which examples the batch of <paramref name="step"/> holds, in order.</summary>
    private Tensor IndicesAt(Step step)
    {
        var order = OrderOf(step.Epoch);
        long start = (long)step.IterationInEpoch * batchSize;
        long length = Math.Min(batchSize, dataset.Count - start);
        return order.narrow(0, start, length);
    }

    /// <summary>
    /// The batches of several networks at one step, stacked to <c>[N, B, ...]</c> images and
    /// <c>[N, B]</c> labels: each network's own, as <see cref="At"/> gives them. Without
    /// augmentation, one gather of the data for all of them.
    /// </summary>
    public static (Tensor Images, Tensor Labels) Stacked(IReadOnlyList<TrainingBatches> batches, Step step)
    {
        var dataset = batches[0].dataset;
        if (batches.Any(b => b.augment || !ReferenceEquals(b.dataset, dataset)))
        {
            var each = batches.Select(b => b.At(step)).ToArray();
            return (stack(each.Select(e => e.Images).ToArray()), stack(each.Select(e => e.Labels).ToArray()));
        }
        using var indices = cat(batches.Select(b => b.IndicesAt(step)).ToArray());
        var images = dataset.Images.index_select(0, indices);
        var labels = dataset.Labels.index_select(0, indices);
        return (images.view([batches.Count, -1, .. images.shape[1..]]), labels.view(batches.Count, -1));
    }

    private Tensor OrderOf(long epoch)
    {
        if (epoch == cachedEpoch && cachedOrder is not null) return cachedOrder;
        cachedOrder?.Dispose();
        using var generator = new Generator(DeriveSeed(seed, 0, epoch));
        var order = randperm(dataset.Count, generator: generator);
        cachedOrder = order.to(dataset.Images.device).DetachFromDisposeScope();
        if (!ReferenceEquals(cachedOrder, order)) order.Dispose();
        cachedEpoch = epoch;
        return cachedOrder;
    }

    /// <summary>Mixes a seed, a stream number and a counter into a generator seed (SplitMix64).</summary>
    public static ulong DeriveSeed(long seed, int stream, long counter)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xBF58476D1CE4E5B9UL + (ulong)counter);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL;
    }
}
