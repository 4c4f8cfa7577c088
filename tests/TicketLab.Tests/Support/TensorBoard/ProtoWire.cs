using System.Buffers.Binary;
using System.Text;

namespace TicketLab.Tests.Support.TensorBoard;

/// <summary>The few pieces of the protobuf wire format that TensorBoard event files need.</summary>
internal static class ProtoWire
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    public static void Tag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    public static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    public static void Double(Stream s, int field, double value)
    {
        Tag(s, field, Fixed64);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        s.Write(bytes);
    }

    public static void Float(Stream s, int field, float value)
    {
        Tag(s, field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        s.Write(bytes);
    }

    /// <summary>int64 as a plain varint (negative values take ten bytes, as protobuf does).</summary>
    public static void Int64(Stream s, int field, long value)
    {
        Tag(s, field, Varint);
        WriteVarint(s, unchecked((ulong)value));
    }

    public static void Bytes(Stream s, int field, ReadOnlySpan<byte> value)
    {
        Tag(s, field, LengthDelimited);
        WriteVarint(s, (ulong)value.Length);
        s.Write(value);
    }

    public static void String(Stream s, int field, string value) => Bytes(s, field, Encoding.UTF8.GetBytes(value));

    /// <summary>Reads protobuf fields from a buffer; throws <see cref="FormatException"/> on malformed input.</summary>
    public ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly bool AtEnd => _data.IsEmpty;

        public (int Field, int WireType) ReadTag()
        {
            ulong tag = ReadVarint();
            if (tag >> 3 is 0 or > int.MaxValue) throw new FormatException("Invalid protobuf field number 0.");
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_data.IsEmpty) throw new FormatException("Truncated protobuf varint.");
                byte b = _data[0];
                _data = _data[1..];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw new FormatException("Protobuf varint longer than 10 bytes.");
        }

        public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

        public ReadOnlySpan<byte> ReadBytes()
        {
            ulong length = ReadVarint();
            if (length > (ulong)_data.Length) throw new FormatException("Truncated protobuf length-delimited field.");
            return Take((int)length);
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case Varint: ReadVarint(); break;
                case Fixed64: Take(8); break;
                case LengthDelimited: ReadBytes(); break;
                case Fixed32: Take(4); break;
                default: throw new FormatException($"Unsupported protobuf wire type {wireType}.");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_data.Length < count) throw new FormatException("Truncated protobuf field.");
            var taken = _data[..count];
            _data = _data[count..];
            return taken;
        }
    }
}
