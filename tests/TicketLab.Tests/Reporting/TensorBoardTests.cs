using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using TicketLab.Tests.Support.TensorBoard;
using TicketLab.Reporting;
using TicketLab.Tests.Support;
using Xunit.Abstractions;

namespace TicketLab.Tests.Reporting;

public sealed class TensorBoardTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Crc32C_KnownStrings(string text, uint expected)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(bytes));
        Assert.Equal(expected, Crc32C.ComputeSoftware(bytes));
    }

    [Fact]
    public void Crc32C_Rfc3720Vectors()
    {
        // RFC 3720 (iSCSI), appendix B.4.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
    }

    [Fact]
    public void Crc32C_HardwareAndTableAgree()
    {
        var random = new Random(5);
        for (int length = 0; length < 300; length += 1 + length / 10)
        {
            var data = new byte[length];
            random.NextBytes(data);
            for (int start = 0; start < Math.Min(length, 9); start++)
                Assert.Equal(Crc32C.ComputeSoftware(data.AsSpan(start)), Crc32C.Compute(data.AsSpan(start)));
        }
    }

    [Fact]
    public void Mask_MatchesTheTfRecordFormulaAndInverts()
    {
        foreach (uint crc in new[] { 0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0x80000000u })
        {
            uint expected = unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
            Assert.Equal(expected, Crc32C.Mask(crc));
            Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        }
    }

    /// <summary>Writes scalars with TicketLab's event-file writer and returns its event file.</summary>
    private static string WriteEventFile(string folder, IEnumerable<(string Tag, long Step, float Value)> scalars)
    {
        var events = TensorBoardEventFile.Create(folder);
        events.AddScalars(scalars);
        return Assert.Single(Directory.GetFiles(folder, "events.out.tfevents.*"));
    }

    [Fact]
    public void The_event_file_writer_writes_what_an_independent_reader_reads_back()
    {
        using var temp = new TempFolder();
        var written = new List<(string Tag, long Step, float Value)>
        {
            ("train/loss", 0, 2.3025851f), ("test/accuracy", 1, 0.9812f), ("train/loss", 100, 0.3f), ("größe ✓", int.MaxValue, -1e30f),
            ("steps/beyond_int", 1L << 40, float.Epsilon),
        };
        double before = UnixNow();
        string file = WriteEventFile(temp.Combine("logs", "run1"), written);
        double after = UnixNow();

        var events = TensorBoardEventReader.ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion); // TensorBoard's file header
        Assert.Empty(events[0].Scalars);
        // Every event, the header too, is stamped in Unix seconds (not .NET ticks, not 0).
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 1, after + 1));
        var read = TensorBoardEventReader.ReadScalars(file);
        Assert.Equal(written.Count, read.Count);
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(written[i].Tag, read[i].Tag);
            Assert.Equal(written[i].Step, read[i].Step);
            Assert.Equal(written[i].Value, read[i].Value);
        }
        // Every record is a TFRecord whose masked CRC-32C of length and data checks out.
        byte[] bytes = File.ReadAllBytes(file);
        int offset = 0, records = 0;
        while (offset < bytes.Length) { Record(bytes, offset, out offset); records++; }
        Assert.Equal(events.Count, records);
    }

    [Fact]
    public void CorruptedBytes_AreDetectedWithFileAndOffset()
    {
        using var temp = new TempFolder();
        string file = WriteEventFile(temp.Path, Enumerable.Range(0, 5).Select(i => ("loss", (long)i, 1f / (i + 1))));
        byte[] original = File.ReadAllBytes(file);
        Record(original, 0, out int second);
        Record(original, second, out int third);

        void Check(int position, string what, long offset)
        {
            byte[] bad = (byte[])original.Clone();
            bad[position] ^= 0x01;
            File.WriteAllBytes(file, bad);
            var error = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.ReadScalars(file));
            Assert.Contains(file, error.Message);
            Assert.Contains($"offset {offset}", error.Message);
            Assert.Contains(what, error.Message);
        }
        Check(third + 20, "data CRC", third);            // a byte of the third record's event
        Check(second + 1, "length CRC", second);         // the length of the second record
        Check(second + 9, "length CRC", second);         // the length CRC itself
        Check(third - 1, "data CRC", second);            // the data CRC of the second record

        File.WriteAllBytes(file, original[..^3]);
        var truncated = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.ReadScalars(file));
        Assert.Contains("truncated", truncated.Message);

        File.WriteAllBytes(file, original);
        Assert.Equal(5, TensorBoardEventReader.ReadScalars(file).Count);
    }

    /// <summary>
    /// The tag each metrics.csv name is written under, stated here rather than taken from the observer:
    /// learning_rate under the training split, every other name split at its first underscore.
    /// </summary>
    private static readonly Dictionary<string, string> TagOfMetric = new()
    {
        ["test_accuracy"] = "test/accuracy",
        ["test_loss"] = "test/loss",
        ["train_accuracy"] = "train/accuracy",
        ["train_loss"] = "train/loss",
        ["train_loss_epoch_mean"] = "train/loss_epoch_mean",
        ["train_accuracy_epoch_mean"] = "train/accuracy_epoch_mean",
        ["learning_rate"] = "train/learning_rate",
    };

    /// <summary>
    /// A tiny run with --tensorboard, read back with the reader of Support/TensorBoard (written from the format's
    /// specification; it shares no code with TicketLab's writer): its event file holds exactly the rows of its
    /// metrics.csv, each once, at the same step, under the tag above, with the value rounded to float32; and every
    /// event is stamped in Unix seconds within the run.
    /// </summary>
    [Fact]
    public void A_runs_event_file_holds_exactly_its_metrics_csv()
    {
        using var temp = new TempFolder();
        string data = LearnableData.WriteMnist(temp.Combine("data"));
        // Three epochs of 8 iterations, a cosine schedule (a new learning rate every epoch), evaluations of the
        // training set too, and one evaluation between epoch ends.
        string[] args = ["train", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32", "--lr", "0.05",
            "--lr-schedule", "cosine", "--training-steps", "3ep", "--eval-train", "--eval-steps", "3it", "--data-dir", data,
            "--root", temp.Combine("store"), "--tensorboard", temp.Combine("tb"), "--quiet", "--json"];
        double before = UnixNow();
        var (code, stdout, stderr) = TestCli.Run(args);
        double after = UnixNow();
        Assert.True(code == 0, stderr);
        string folder = (string)System.Text.Json.Nodes.JsonNode.Parse(stdout)!["folder"]!;

        string file = Assert.Single(Directory.GetFiles(temp.Combine("tb"), "events.out.tfevents.*", SearchOption.AllDirectories));
        Assert.Equal(Path.Combine(temp.Combine("tb"), Path.GetRelativePath(temp.Combine("store"), folder)), Path.GetDirectoryName(file));
        var events = TensorBoardEventReader.ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 1, after + 1));

        // metrics.csv read as text: name,step,value.
        var lines = File.ReadAllLines(Path.Combine(folder, "metrics.csv"));
        Assert.Equal("name,step,value", lines[0]);
        var rows = lines.Skip(1).Select(line => line.Split(','))
            .Select(c => (Name: c[0], Step: long.Parse(c[1], System.Globalization.CultureInfo.InvariantCulture),
                Value: double.Parse(c[2], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.All(rows, r => Assert.True(TagOfMetric.ContainsKey(r.Name), $"metrics.csv has '{r.Name}', which this test has no tag for"));
        var expected = rows.Select(r => (Tag: TagOfMetric[r.Name], r.Step, Value: (float)r.Value)).Order().ToArray();
        var scalars = events.SelectMany(e => e.Scalars.Select(s => (s.Tag, e.Step, s.Value))).Order().ToArray();
        output.WriteLine($"{events.Count} events ({scalars.Length} scalars and the file header); metrics.csv: {rows.Length} rows; "
            + $"matched: {expected.Intersect(scalars).Count()}");

        Assert.Equal(events.Count - 1, scalars.Length); // one scalar an event, after the header
        Assert.Equal(expected, scalars);
        // The run logs what the test means it to: every metric, the learning rate at each epoch end (3 different ones), the extra evaluation.
        Assert.Equal(TagOfMetric.Values.Order(), scalars.Select(s => s.Tag).Distinct().Order());
        Assert.Equal([8L, 16, 24], scalars.Where(s => s.Tag == "train/learning_rate").Select(s => s.Step));
        Assert.Equal(3, scalars.Where(s => s.Tag == "train/learning_rate").Select(s => s.Value).Distinct().Count());
        Assert.Contains(scalars, s => s.Tag == "test/accuracy" && s.Step == 3);
    }

    /// <summary>Parses one TFRecord at <paramref name="offset"/> by hand (checking both masked CRCs) and returns its data.</summary>
    private static byte[] Record(byte[] file, int offset, out int next)
    {
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(offset));
        Assert.Equal(Crc32C.Mask(Crc32C.Compute(file.AsSpan(offset, 8))), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8)));
        byte[] data = file.AsSpan(offset + 12, (int)length).ToArray();
        Assert.Equal(Crc32C.Mask(Crc32C.Compute(data)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 12 + (int)length)));
        next = offset + 12 + (int)length + 4;
        return data;
    }

    private static double UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
