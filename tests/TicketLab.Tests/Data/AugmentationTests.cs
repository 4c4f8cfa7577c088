using System.Diagnostics;
using TicketLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Data;

public sealed class AugmentationTests
{
    private static Tensor RandomBatch(long b, long c, long h, long w, int seed)
    {
        using var g = new Generator((ulong)seed);
        return rand([b, c, h, w], generator: g) + 1f; // strictly positive, so zero padding is distinguishable
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void KeepsShapeAndDtype()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var batch = RandomBatch(5, 3, 32, 32, seed: 0);

        var output = Augmentation.RandomCropAndFlip(batch, g);

        Assert.Equal(batch.shape, output.shape);
        Assert.Equal(ScalarType.Float32, output.dtype);
    }

    [Fact]
    public void DeterministicForTheSameSeed()
    {
        using var scope = NewDisposeScope();
        var batch = RandomBatch(16, 3, 32, 32, seed: 0);
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        using var g3 = new Generator(43);

        var a = Augmentation.RandomCropAndFlip(batch, g1);
        var b = Augmentation.RandomCropAndFlip(batch, g2);
        var c = Augmentation.RandomCropAndFlip(batch, g3);
        var a2 = Augmentation.RandomCropAndFlip(batch, g1);

        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.False(Same(a, a2), "the generator state must advance between calls");
    }

    [Theory]
    [InlineData(4, 6, 7)]
    [InlineData(2, 5, 5)]
    [InlineData(4, 32, 32)]
    public void EveryImageIsAShiftedAndPossiblyFlippedWindowOfThePaddedInput(int padding, int h, int w)
    {
        using var scope = NewDisposeScope();
        const int B = 48;
        var batch = RandomBatch(B, 3, h, w, seed: 7);
        using var g = new Generator(2024);

        var output = Augmentation.RandomCropAndFlip(batch, g, padding);

        var padded = nn.functional.pad(batch, [padding, padding, padding, padding]);
        var flips = 0;
        var offsets = new HashSet<(int, int)>();
        for (var i = 0; i < B; i++)
        {
            var matches = new List<(int Dy, int Dx, bool Flip)>();
            for (var dy = 0; dy <= 2 * padding; dy++)
            {
                for (var dx = 0; dx <= 2 * padding; dx++)
                {
                    var window = padded[i, TensorIndex.Colon, TensorIndex.Slice(dy, dy + h), TensorIndex.Slice(dx, dx + w)];
                    foreach (var flip in new[] { false, true })
                    {
                        var candidate = flip ? window.flip(2) : window;
                        if (Same(candidate, output[i]))
                        {
                            matches.Add((dy, dx, flip));
                        }
                    }
                }
            }

            var match = Assert.Single(matches);
            flips += match.Flip ? 1 : 0;
            offsets.Add((match.Dy, match.Dx));
        }

        Assert.InRange(flips, 1, B - 1);
        Assert.True(offsets.Count > B / 4, $"only {offsets.Count} distinct offsets in {B} images");
    }

    [Fact]
    public void ZeroPaddingIsTheIdentityUpToFlips()
    {
        using var scope = NewDisposeScope();
        var batch = RandomBatch(8, 1, 4, 4, seed: 3);
        using var g = new Generator(5);

        var output = Augmentation.RandomCropAndFlip(batch, g, padding: 0);

        for (var i = 0; i < 8; i++)
        {
            Assert.True(Same(output[i], batch[i]) || Same(output[i], batch[i].flip(2)));
        }
    }

    [Fact]
    public void LeavesOnlyTheResultInTheCallersScope()
    {
        using var scope = NewDisposeScope();
        var batch = RandomBatch(4, 3, 8, 8, seed: 1);
        using var g = new Generator(9);
        var before = scope.DisposablesCount;

        var output = Augmentation.RandomCropAndFlip(batch, g);

        Assert.Equal(before + 1, scope.DisposablesCount);
        Assert.True(scope.Contains(output));
    }

    [Fact]
    public void RejectsNonBatchInput()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        Assert.Throws<ArgumentException>(() => Augmentation.RandomCropAndFlip(zeros(3, 32, 32), g));
    }
}
