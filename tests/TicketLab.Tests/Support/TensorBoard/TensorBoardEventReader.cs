using System.Text;

namespace TicketLab.Tests.Support.TensorBoard;

/// <summary>One decoded event: the file-version header (FileVersion set) or scalar summaries.</summary>
public sealed record TensorBoardEvent(long Offset, double WallTime, long Step, string? FileVersion,
    IReadOnlyList<(string Tag, float Value)> Scalars);

/// <summary>
/// Reads TensorBoard event files, checking both CRCs of every record. Only <c>simple_value</c> scalars are
/// decoded; other summary kinds and unknown fields are skipped. Written from the formats' specifications
/// (TFRecord framing, the protobuf wire format, tensorflow's event.proto and summary.proto), it shares no code
/// with TicketLab's writer (src/TicketLab/Reporting/TensorBoardEventFile.cs), so the tests that read that
/// writer's files with it check the files, not the writer against itself: keep it that way.
/// </summary>
public static class TensorBoardEventReader
{
    /// <summary>All scalars of the file, in file order. Throws <see cref="InvalidDataException"/> naming the file
    /// and the record offset when a record is corrupt.</summary>
    public static IReadOnlyList<(string Tag, long Step, float Value, double WallTime)> ReadScalars(string file) =>
        ReadEvents(file).SelectMany(e => e.Scalars.Select(s => (s.Tag, e.Step, s.Value, e.WallTime))).ToList();

    /// <summary>Every event of the file, in file order.</summary>
    public static IReadOnlyList<TensorBoardEvent> ReadEvents(string file)
    {
        var events = new List<TensorBoardEvent>();
        foreach (var (offset, data) in TfRecord.ReadAll(file))
        {
            try
            {
                events.Add(ParseEvent(offset, data));
            }
            catch (FormatException e)
            {
                throw TfRecord.Bad(file, offset, "invalid Event message: " + e.Message);
            }
        }
        return events;
    }

    private static TensorBoardEvent ParseEvent(long offset, byte[] data)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        var scalars = new List<(string, float)>();
        var reader = new ProtoWire.Reader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, ProtoWire.Fixed64): wallTime = reader.ReadDouble(); break;
                case (2, ProtoWire.Varint): step = unchecked((long)reader.ReadVarint()); break;
                case (3, ProtoWire.LengthDelimited): fileVersion = Encoding.UTF8.GetString(reader.ReadBytes()); break;
                case (5, ProtoWire.LengthDelimited): ParseSummary(reader.ReadBytes(), scalars); break;
                default: reader.Skip(wire); break;
            }
        }
        return new TensorBoardEvent(offset, wallTime, step, fileVersion, scalars);
    }

    private static void ParseSummary(ReadOnlySpan<byte> data, List<(string, float)> scalars)
    {
        var reader = new ProtoWire.Reader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == ProtoWire.LengthDelimited) ParseValue(reader.ReadBytes(), scalars);
            else reader.Skip(wire);
        }
    }

    private static void ParseValue(ReadOnlySpan<byte> data, List<(string, float)> scalars)
    {
        string tag = "";
        float? value = null;
        var reader = new ProtoWire.Reader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, ProtoWire.LengthDelimited): tag = Encoding.UTF8.GetString(reader.ReadBytes()); break;
                case (2, ProtoWire.Fixed32): value = reader.ReadFloat(); break;
                default: reader.Skip(wire); break;
            }
        }
        if (value is { } v) scalars.Add((tag, v));
    }
}
