using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using TicketLab.Reporting.TensorBoard;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

public sealed class TensorBoardTests
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

    [Fact]
    public void Scalars_RoundTrip()
    {
        using var temp = new TempFolder();
        var written = new List<(string Tag, long Step, double Value)>
        {
            ("loss/train", 0, 2.302585092994046),
            ("accuracy/test", 1, 0.9812),
            ("loss/train", 100, 0.1 + 0.2),
            ("größe ✓", long.MaxValue, -1e30),
            ("negative_step", -5, double.NaN),
            ("inf", 7, double.PositiveInfinity),
        };
        double before = UnixNow();
        string file;
        using (var writer = new TensorBoardWriter(temp.Combine("logs", "run1")))
        {
            file = writer.FilePath;
            foreach (var (tag, step, value) in written) writer.AddScalar(tag, step, value);
        }
        double after = UnixNow();

        var read = TensorBoardEventReader.ReadScalars(file);
        Assert.Equal(written.Count, read.Count);
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(written[i].Tag, read[i].Tag);
            Assert.Equal(written[i].Step, read[i].Step);
            Assert.Equal((float)written[i].Value, read[i].Value);
            Assert.InRange(read[i].WallTime, before - 1, after + 1);
        }
    }

    [Fact]
    public void File_IsNamedLikeTensorFlowsAndStartsWithTheFileVersionEvent()
    {
        using var temp = new TempFolder();
        double before = UnixNow();
        using var writer = new TensorBoardWriter(temp.Path);
        writer.Flush(); // the header is on disk before any scalar

        string name = Path.GetFileName(writer.FilePath);
        Assert.Equal(temp.Path, Path.GetDirectoryName(writer.FilePath));
        var match = Regex.Match(name, @"^events\.out\.tfevents\.(\d+)\.([A-Za-z0-9_.-]+)\.(\d+)\.ticketlab$");
        Assert.True(match.Success, name);
        Assert.InRange(long.Parse(match.Groups[1].Value), (long)before - 1, (long)UnixNow() + 1);
        Assert.Equal(Environment.ProcessId.ToString(), match.Groups[3].Value);

        var events = TensorBoardEventReader.ReadEvents(writer.FilePath);
        var first = Assert.Single(events);
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Equal(0, first.Offset);
        Assert.Empty(first.Scalars);
        Assert.InRange(first.WallTime, before - 1, UnixNow() + 1);

        writer.AddScalar("x", 3, 1.5);
        writer.Flush();
        events = TensorBoardEventReader.ReadEvents(writer.FilePath);
        Assert.Equal(2, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Null(events[1].FileVersion);
        Assert.Equal((3L, "x", 1.5f), (events[1].Step, events[1].Scalars[0].Tag, events[1].Scalars[0].Value));
    }

    [Fact]
    public void Records_AreByteExactTfRecordsOfProtobufEvents()
    {
        using var temp = new TempFolder();
        string file;
        using (var writer = new TensorBoardWriter(temp.Path))
        {
            file = writer.FilePath;
            writer.AddScalar("loss", 300, 0.25);
        }
        byte[] bytes = File.ReadAllBytes(file);

        // Record 1: Event{wall_time (field 1, fixed64), file_version (field 3) = "brain.Event:2"}.
        byte[] header = Record(bytes, 0, out int next);
        Assert.Equal(0x09, header[0]);
        Assert.Equal([0x1A, 13, .. "brain.Event:2"u8.ToArray()], header[9..]);

        // Record 2: Event{wall_time, step (field 2, varint 300 = AC 02), summary (field 5){value (1){tag (1), simple_value (2, fixed32)}}}.
        byte[] scalar = Record(bytes, next, out int end);
        Assert.Equal(bytes.Length, end);
        Assert.Equal(0x09, scalar[0]);
        byte[] value = [0x0A, 4, .. "loss"u8.ToArray(), 0x15, .. BitConverter.GetBytes(0.25f)];
        byte[] summary = [0x0A, (byte)value.Length, .. value];
        Assert.Equal([0x10, 0xAC, 0x02, 0x2A, (byte)summary.Length, .. summary], scalar[9..]);
    }

    [Fact]
    public void CorruptedBytes_AreDetectedWithFileAndOffset()
    {
        using var temp = new TempFolder();
        string file;
        using (var writer = new TensorBoardWriter(temp.Path))
        {
            file = writer.FilePath;
            for (int i = 0; i < 5; i++) writer.AddScalar("loss", i, 1.0 / (i + 1));
        }
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
        Check(original.Length - 1, "data CRC", original.Length - (third - second)); // the data CRC of the last record

        File.WriteAllBytes(file, original[..^3]);
        var truncated = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.ReadScalars(file));
        Assert.Contains("truncated", truncated.Message);

        File.WriteAllBytes(file, original);
        Assert.Equal(5, TensorBoardEventReader.ReadScalars(file).Count);
    }

    [Fact]
    public void AddScalar_IsThreadSafe()
    {
        using var temp = new TempFolder();
        string file;
        using (var writer = new TensorBoardWriter(temp.Path))
        {
            file = writer.FilePath;
            Parallel.For(0, 4, thread =>
            {
                for (int step = 0; step < 500; step++) writer.AddScalar($"t{thread}", step, thread * 1000 + step);
            });
        }
        var read = TensorBoardEventReader.ReadScalars(file);
        Assert.Equal(2000, read.Count);
        for (int thread = 0; thread < 4; thread++)
        {
            var mine = read.Where(r => r.Tag == $"t{thread}").ToList();
            Assert.Equal(Enumerable.Range(0, 500).Select(s => (long)s), mine.Select(r => r.Step));
            Assert.All(mine, r => Assert.Equal(thread * 1000 + r.Step, (long)r.Value));
        }
    }

    [Fact]
    public void TwoWriters_InOneFolder_GetDifferentFiles_AndDisposeIsFinal()
    {
        using var temp = new TempFolder();
        using var a = new TensorBoardWriter(temp.Path);
        var b = new TensorBoardWriter(temp.Path);
        Assert.NotEqual(a.FilePath, b.FilePath);
        b.AddScalar("x", 1, 2);
        b.Dispose();
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => b.AddScalar("x", 2, 3));
        Assert.Single(TensorBoardEventReader.ReadScalars(b.FilePath));
        Assert.Throws<ArgumentException>(() => a.AddScalar("", 1, 1));
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
