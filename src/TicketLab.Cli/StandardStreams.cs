using System.Runtime.InteropServices;

namespace TicketLab.Cli;

/// <summary>
/// This process's standard output and error (file descriptors 1 and 2), pointed at a file for a
/// while: a worker's unit log then holds what native libraries print too, not only what .NET writes.
/// </summary>
internal static class StandardStreams
{
    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern int Dup(int fd);

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int fd, int target);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(string path, int flags, int mode);

    // Linux's open(2) flags (the same on x86-64 and arm64): every write goes to the end, whoever writes.
    private const int WriteOnlyCreateAppend = 0x1 | 0x40 | 0x400;

    /// <summary>
    /// Sends descriptors 1 and 2 to the end of <paramref name="path"/> until disposed; the writer
    /// writes there too, through the same file offset, so .NET's and native lines keep their order.
    /// </summary>
    public static Redirection AppendTo(string path)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        int fd = Open(path, WriteOnlyCreateAppend, Convert.ToInt32("644", 8));
        if (fd < 0) throw new IOException($"could not open {path} to append to it (errno {Marshal.GetLastPInvokeError()}).");
        int savedOut = Dup(1), savedError = Dup(2);
        bool redirected = savedOut >= 0 && savedError >= 0 && Dup2(fd, 1) >= 0 && Dup2(fd, 2) >= 0;
        Close(fd);
        if (!redirected) throw new IOException($"could not send the output to {path} (errno {Marshal.GetLastPInvokeError()}).");
        // Console's stream duplicates descriptor 2 as it is now (the log) and writes with write(2), appending.
        var writer = TextWriter.Synchronized(new StreamWriter(Console.OpenStandardError()) { AutoFlush = true });
        return new Redirection(writer, savedOut, savedError);
    }

    public sealed class Redirection(TextWriter writer, int savedOut, int savedError) : IDisposable
    {
        public TextWriter Writer { get; } = writer;

        public void Dispose()
        {
            Writer.Flush();
            Writer.Dispose();
            Dup2(savedOut, 1);
            Dup2(savedError, 2);
            Close(savedOut);
            Close(savedError);
        }
    }
}
