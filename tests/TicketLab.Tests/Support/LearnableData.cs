using System.IO.Compression;

namespace TicketLab.Tests.Support;

/// <summary>
/// Writes a small MNIST-shaped dataset (IDX files in <c>folder/mnist</c>) that a network can
/// learn: each class lights a different 7x7 block of the 28x28 image, plus noise.
/// </summary>
public static class LearnableData
{
    public static string WriteMnist(string root, int train = 256, int test = 128, int seed = 7)
    {
        string folder = Path.Combine(root, "mnist");
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        Write(folder, "train", train, random);
        Write(folder, "t10k", test, random);
        return root;
    }

    private static void Write(string folder, string prefix, int count, Random random)
    {
        var labels = new byte[count];
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(10);
            labels[i] = (byte)label;
            int top = 7 * (label / 4), left = 7 * (label % 4);
            for (int p = 0; p < 28 * 28; p++) pixels[i * 784 + p] = (byte)random.Next(60);
            for (int y = top; y < top + 7; y++)
                for (int x = left; x < left + 7; x++)
                    pixels[i * 784 + y * 28 + x] = (byte)(180 + random.Next(70));
        }
        WriteIdx(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), 2051, [count, 28, 28], pixels);
        WriteIdx(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), 2049, [count], labels);
    }

    private static void WriteIdx(string path, int magic, int[] dims, byte[] data)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        var word = new byte[4];
        void Int(int value)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, value);
            gzip.Write(word);
        }
        Int(magic);
        foreach (int d in dims) Int(d);
        gzip.Write(data);
    }
}
