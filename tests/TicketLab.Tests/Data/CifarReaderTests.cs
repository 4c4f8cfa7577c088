using TicketLab.Data;
using static TicketLab.Tests.Data.DataFixtures;

namespace TicketLab.Tests.Data;

public sealed class CifarReaderTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Cifar10ConcatenatesBatchesInOrder()
    {
        var first = Write(dir.Sub("data_batch_1.bin"), Cifar10Bytes(3, seed: 1));
        var second = Write(dir.Sub("data_batch_2.bin"), Cifar10Bytes(2, seed: 2));

        var batch = CifarReader.ReadCifar10([first, second]);

        Assert.Equal(5, batch.Count);
        Assert.Equal([first, second], batch.Paths);
        Assert.Equal(Labels(3, 10, 1).Concat(Labels(2, 10, 2)), batch.Labels);
        Assert.Equal(Pattern(3 * 3072, 1).Concat(Pattern(2 * 3072, 2)), batch.Pixels);
    }

    [Fact]
    public void Cifar100KeepsFineLabel()
    {
        byte[][] labels = [[19, 99], [0, 42], [7, 0]];
        var pixels = Pattern(3 * 3072);
        var path = Write(dir.Sub("train.bin"), CifarRecords(labels, pixels));

        var batch = CifarReader.ReadCifar100([path]);

        Assert.Equal([99, 42, 0], batch.Labels);
        Assert.Equal(pixels, batch.Pixels);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3071)]
    [InlineData(2, 3073)]
    public void SizeNotMultipleOfRecordThrows(int labelBytes, int cut)
    {
        var recordBytes = labelBytes + 3072;
        var bytes = new byte[2 * recordBytes - cut];
        var path = Write(dir.Sub(labelBytes == 1 ? "data_batch_3.bin" : "test.bin"), bytes);

        var e = Assert.Throws<DatasetFormatException>(() =>
            labelBytes == 1 ? CifarReader.ReadCifar10([path]) : CifarReader.ReadCifar100([path]));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains($"size {bytes.Length} bytes is not a multiple of the {recordBytes}-byte record size", e.Message);
    }

    [Fact]
    public void Cifar10LabelOutOfRangeThrows()
    {
        var good = Write(dir.Sub("data_batch_1.bin"), Cifar10Bytes(2, seed: 1));
        var bad = Write(dir.Sub("data_batch_2.bin"), CifarRecords([[3], [10]], Pattern(2 * 3072)));

        var e = Assert.Throws<DatasetFormatException>(() => CifarReader.ReadCifar10([good, bad]));

        Assert.StartsWith(bad + ": label 10 of record 1 is out of range", e.Message);
    }

    [Fact]
    public void Cifar100FineLabelOutOfRangeThrows()
    {
        var path = Write(dir.Sub("test.bin"), CifarRecords([[1, 5], [2, 100]], Pattern(2 * 3072)));

        var e = Assert.Throws<DatasetFormatException>(() => CifarReader.ReadCifar100([path]));

        Assert.StartsWith(path + ": label 100 of record 1 is out of range; CIFAR-100 has 100 classes", e.Message);
    }
}
