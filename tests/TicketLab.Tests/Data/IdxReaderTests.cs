using TicketLab.Data;
using static TicketLab.Tests.Data.DataFixtures;

namespace TicketLab.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData(false, "images")]
    [InlineData(true, "images")]
    [InlineData(true, "images.gz")]
    [InlineData(false, "images.gz")]
    public void ReadsImagesPlainOrGzipDetectedByContentNotExtension(bool gzip, string fileName)
    {
        var pixels = Pattern(3 * 4 * 5);
        var bytes = IdxImagesBytes(3, 4, 5, pixels);
        var path = Write(dir.Sub(fileName), gzip ? Gzip(bytes) : bytes);

        Assert.Equal(gzip, IdxReader.IsGzip(path));
        var images = IdxReader.ReadImages(path);

        Assert.Equal(path, images.Path);
        Assert.Equal((3, 4, 5), (images.Count, images.Rows, images.Columns));
        Assert.Equal(pixels, images.Pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsLabels(bool gzip)
    {
        byte[] labels = [0, 9, 3, 3, 7];
        var bytes = IdxLabelsBytes(5, labels);
        var path = Write(dir.Sub("labels"), gzip ? Gzip(bytes) : bytes);

        var read = IdxReader.ReadLabels(path);

        Assert.Equal(5, read.Count);
        Assert.Equal(labels, read.Labels);
    }

    [Fact]
    public void ReadsEmptyImageFile()
    {
        var path = Write(dir.Sub("empty"), IdxImagesBytes(0, 28, 28, []));
        Assert.Equal(0, IdxReader.ReadImages(path).Count);
    }

    [Fact]
    public void WrongMagicInImagesFileNamesFileAndNumbers()
    {
        var path = Write(dir.Sub("train-images-idx3-ubyte.gz"), Gzip(IdxImagesBytes(1, 2, 2, [1, 2, 3, 4], magic: 1234)));

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Equal($"{path}: wrong magic number 1234, expected 2051 (IDX images)", e.Message);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void LabelsFileGivenAsImagesIsWrongMagic()
    {
        var path = Write(dir.Sub("labels-as-images"), IdxLabelsBytes(4, [1, 2, 3, 4]));

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("wrong magic number 2049, expected 2051", e.Message);
        Assert.Contains("labels file", e.Message);
    }

    [Fact]
    public void WrongMagicInLabelsFile()
    {
        var path = Write(dir.Sub("labels"), IdxImagesBytes(1, 1, 1, [5]));

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("wrong magic number 2051, expected 2049 (IDX labels)", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedImagesThrow(bool gzip)
    {
        var bytes = IdxImagesBytes(5, 4, 4, Pattern(5 * 16));
        var cut = bytes[..^7];
        var path = Write(dir.Sub("images"), gzip ? Gzip(cut) : cut);

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": truncated", e.Message);
        Assert.Contains("5 images of 4x4 (80 bytes of pixels) but only 73 bytes follow", e.Message);
    }

    [Fact]
    public void TruncatedLabelsThrow()
    {
        var path = Write(dir.Sub("labels"), IdxLabelsBytes(10, [1, 2, 3]));

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Equal($"{path}: truncated file: the header says 10 labels but only 3 bytes follow", e.Message);
    }

    [Fact]
    public void TruncatedHeaderThrows()
    {
        var path = Write(dir.Sub("short"), [0, 0, 8, 3, 0, 0]);

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": truncated file: 6 bytes", e.Message);
    }

    [Fact]
    public void CutGzipStreamThrowsFormatError()
    {
        var compressed = Gzip(IdxImagesBytes(50, 28, 28, Pattern(50 * 784)));
        var path = Write(dir.Sub("cut.gz"), compressed[..(compressed.Length / 2)]);

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void NegativeDimensionsThrow()
    {
        var path = Write(dir.Sub("neg"), IdxImagesBytes(-1, 28, 28, []));

        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path));

        Assert.Contains("invalid dimensions", e.Message);
        Assert.Contains(path, e.Message);
    }
}
