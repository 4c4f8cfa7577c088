using System.Security.Cryptography;

namespace TicketLab.Foundations;

/// <summary>
/// A body followed by the SHA-256 of its bytes: how a checkpoint proves on reading that not one
/// bit changed since it was written.
/// </summary>
public static class Checksummed
{
    public const int HashBytes = 32;

    /// <summary>The bytes differ from those written: a damaged disk, an edit, a partial copy.</summary>
    public const string MismatchMessage = "checksum mismatch: the file's bytes changed after it was written";

    /// <summary>Writes what <paramref name="body"/> writes, then its SHA-256.</summary>
    public static void Write(Stream stream, Action<Stream> body)
    {
        using var hashing = new HashingStream(stream);
        body(hashing);
        stream.Write(hashing.Hash());
    }

    /// <summary>
    /// Checks the SHA-256 at the end of a file, then reads the body through <paramref name="body"/>.
    /// Verifying first means a damaged file is reported as damaged rather than as whatever its
    /// garbled fields happen to say; the body must end exactly where the checksum begins.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes do not match the stored checksum.</exception>
    public static T Read<T>(Stream stream, Func<Stream, T> body)
    {
        if (!stream.CanSeek) throw new ArgumentException("A checksummed file is read from a seekable stream.", nameof(stream));
        long checksumAt = Verify(stream);
        var value = body(stream);
        if (stream.Position != checksumAt) throw new InvalidDataException("garbled file: its contents do not end where its checksum begins");
        stream.Position = checksumAt + HashBytes;
        return value;
    }

    /// <summary>Hashes from the current position to the last <see cref="HashBytes"/> bytes and compares; returns where the checksum starts.</summary>
    private static long Verify(Stream stream)
    {
        long start = stream.Position, length = stream.Length - start - HashBytes;
        if (length < 0) throw new EndOfStreamException("the checksum at the end is missing (truncated file)");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = length; left > 0;)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) throw new EndOfStreamException("truncated file");
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        Span<byte> stored = stackalloc byte[HashBytes];
        stream.ReadExactly(stored);
        if (!stored.SequenceEqual(hash.GetCurrentHash())) throw new InvalidDataException(MismatchMessage);
        stream.Position = start;
        return start + length;
    }

    /// <summary>Passes bytes through to an inner stream, hashing every byte written.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => hash.GetCurrentHash();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) hash.Dispose();
            base.Dispose(disposing);
        }
    }
}

