using System.Globalization;
using System.Text;

namespace TicketLab.Reporting.TensorBoard;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.&lt;unix-seconds&gt;.&lt;hostname&gt;.&lt;pid&gt;.ticketlab</c>)
/// with scalar summaries, with no dependency on TensorFlow: the protobuf messages are encoded by hand and
/// framed as TFRecords. Thread-safe.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    public const string FileVersion = "brain.Event:2";

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly MemoryStream _event = new();
    private bool _disposed;

    public TensorBoardWriter(string logDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(logDir);
        Directory.CreateDirectory(logDir);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string stem = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{seconds}.{SafeHostName()}.{Environment.ProcessId}");
        for (int attempt = 0; ; attempt++)
        {
            string name = attempt == 0 ? stem + ".ticketlab" : string.Create(CultureInfo.InvariantCulture, $"{stem}-{attempt}.ticketlab");
            string path = Path.Combine(logDir, name);
            try
            {
                _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
                FilePath = path;
                break;
            }
            catch (IOException) when (File.Exists(path) && attempt < 1000)
            {
                // Another writer in the same folder, second and process: take the next suffix.
            }
        }
        lock (_gate)
        {
            BeginEvent(WallTime());
            ProtoWire.String(_event, 3, FileVersion);
            EndEvent();
            _file.Flush();
        }
    }

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    /// <summary>Appends <c>Event{wall_time, step, summary{value{tag, simple_value}}}</c>; the value is stored as a float.</summary>
    public void AddScalar(string tag, long step, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        byte[] tagBytes = Encoding.UTF8.GetBytes(tag);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var summaryValue = new MemoryStream();
            ProtoWire.Bytes(summaryValue, 1, tagBytes);
            ProtoWire.Float(summaryValue, 2, (float)value);
            using var summary = new MemoryStream();
            ProtoWire.Bytes(summary, 1, summaryValue.GetBuffer().AsSpan(0, (int)summaryValue.Length));

            BeginEvent(WallTime());
            ProtoWire.Int64(_event, 2, step);
            ProtoWire.Bytes(_event, 5, summary.GetBuffer().AsSpan(0, (int)summary.Length));
            EndEvent();
        }
    }

    /// <summary>Pushes everything written so far to the file.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            try { _file.Flush(); }
            finally { _file.Dispose(); }
        }
    }

    private void BeginEvent(double wallTime)
    {
        _event.SetLength(0);
        ProtoWire.Double(_event, 1, wallTime);
    }

    private void EndEvent() => TfRecord.Write(_file, _event.GetBuffer().AsSpan(0, (int)_event.Length));

    private static double WallTime() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    private static string SafeHostName()
    {
        string host;
        try { host = Environment.MachineName; }
        catch (InvalidOperationException) { host = "localhost"; }
        var safe = new string(host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return safe.Length == 0 ? "localhost" : safe;
    }
}
