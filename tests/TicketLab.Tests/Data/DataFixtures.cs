using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using TicketLab.Data;

namespace TicketLab.Tests.Data;

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("ticketlab-data-test-").FullName;
    }

    public string Path { get; }

    public string Sub(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Writers for small synthetic dataset files (no real data).</summary>
public static class DataFixtures
{
    /// <summary>A deterministic pixel pattern that differs between images, rows and columns.</summary>
    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 37 + seed * 101 + (i / 7) * 11) % 256);
        }

        return bytes;
    }

    public static byte[] Labels(int count, int classes, int seed = 0) =>
        Enumerable.Range(0, count).Select(i => (byte)((i * 3 + seed) % classes)).ToArray();

    public static byte[] IdxImagesBytes(int count, int rows, int columns, byte[] pixels, int magic = IdxReader.ImagesMagic)
    {
        var bytes = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        pixels.CopyTo(bytes, 16);
        return bytes;
    }

    public static byte[] IdxLabelsBytes(int count, byte[] labels, int magic = IdxReader.LabelsMagic)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static string Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The four IDX files of a small MNIST-like dataset (28x28) in <paramref name="folder"/>.</summary>
    public static void WriteIdxDataset(string folder, int trainCount = 12, int testCount = 5, bool gzip = true, int classes = 10)
    {
        var suffix = gzip ? ".gz" : "";
        foreach (var (name, count, seed) in new[] { ("train", trainCount, 1), ("t10k", testCount, 2) })
        {
            var images = IdxImagesBytes(count, 28, 28, Pattern(count * 784, seed));
            var labels = IdxLabelsBytes(count, Labels(count, classes, seed));
            Write(System.IO.Path.Combine(folder, $"{name}-images-idx3-ubyte{suffix}"), gzip ? Gzip(images) : images);
            Write(System.IO.Path.Combine(folder, $"{name}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(labels) : labels);
        }
    }

    /// <summary>CIFAR records: <paramref name="labelBytes"/> label bytes then 3072 pixels each.</summary>
    public static byte[] CifarRecords(byte[][] labels, byte[] pixels)
    {
        var recordBytes = labels[0].Length + 3072;
        var bytes = new byte[labels.Length * recordBytes];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i].CopyTo(bytes, i * recordBytes);
            pixels.AsSpan(i * 3072, 3072).CopyTo(bytes.AsSpan(i * recordBytes + labels[i].Length));
        }

        return bytes;
    }

    public static byte[] Cifar10Bytes(int count, int seed) =>
        CifarRecords(Labels(count, 10, seed).Select(l => new[] { l }).ToArray(), Pattern(count * 3072, seed));

    /// <summary>CIFAR-10 batch files (data_batch_1..5 with <paramref name="perBatch"/> images each, test_batch) in <paramref name="folder"/>.</summary>
    public static void WriteCifar10Dataset(string folder, int perBatch = 3, int testCount = 4)
    {
        for (var i = 1; i <= 5; i++)
        {
            Write(System.IO.Path.Combine(folder, $"data_batch_{i}.bin"), Cifar10Bytes(perBatch, i));
        }

        Write(System.IO.Path.Combine(folder, "test_batch.bin"), Cifar10Bytes(testCount, 9));
    }

    public static byte[] Md5(byte[] bytes) => MD5.HashData(bytes);

    public static string Md5Hex(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A tar.gz archive holding the given files (relative paths with '/').</summary>
    public static byte[] TarGz(IEnumerable<(string Name, byte[] Data)> files)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var directory in files.Select(f => f.Name).Where(n => n.Contains('/')).Select(n => n[..(n.LastIndexOf('/') + 1)]).Distinct())
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory));
            }

            foreach (var (name, data) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }

        return output.ToArray();
    }

    /// <summary>All files (not folders) under a folder, relative, sorted.</summary>
    public static string[] FilesUnder(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>An environment lookup backed by a dictionary.</summary>
    public static Func<string, string?> Env(params (string Key, string Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value);
        return key => map.GetValueOrDefault(key);
    }
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (free port) serving fixed byte arrays by path; one
/// request per connection. Records the paths requested.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener listener;
    private readonly Dictionary<string, byte[]> files;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private readonly List<string> requests = [];

    public LoopbackHttpServer(IReadOnlyDictionary<string, byte[]> filesByPath)
    {
        files = new Dictionary<string, byte[]>(filesByPath);
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";
        loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>e.g. <c>http://127.0.0.1:12345/</c>; files are served under it by name.</summary>
    public string BaseUrl { get; }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (requests)
            {
                return requests.ToArray();
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var header = new StringBuilder();
                var buffer = new byte[1];
                while (!header.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
                {
                    if (await stream.ReadAsync(buffer, stop.Token) == 0)
                    {
                        return;
                    }

                    header.Append((char)buffer[0]);
                }

                var path = header.ToString().Split(' ')[1];
                lock (requests)
                {
                    requests.Add(path);
                }

                var found = files.TryGetValue(path.TrimStart('/'), out var body);
                body ??= Encoding.ASCII.GetBytes("not found");
                var head = $"HTTP/1.1 {(found ? "200 OK" : "404 Not Found")}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), stop.Token);
                await stream.WriteAsync(body, stop.Token);
                await stream.FlushAsync(stop.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }
}
