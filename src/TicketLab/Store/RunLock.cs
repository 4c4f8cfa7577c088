namespace TicketLab.Store;

/// <summary>
/// An exclusive lock on a run folder, so two processes never write the same run. The OS drops
/// it when the process dies (kill -9 included), so a crashed run never needs manual cleanup.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream stream;

    private RunLock(FileStream stream) => this.stream = stream;

    public static RunLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "run.lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var writer = new StreamWriter(stream, leaveOpen: true)) writer.Write(Environment.ProcessId);
            stream.Flush();
            return new RunLock(stream);
        }
        catch (IOException)
        {
            string owner = "another process";
            try { owner = $"process {File.ReadAllText(path).Trim()}"; } catch (IOException) { }
            throw new RunLockedException($"{folder} is being written by {owner}. Wait for it to finish, or stop it; two processes must not write the same run.");
        }
    }

    public void Dispose() => stream.Dispose();
}

public sealed class RunLockedException(string message) : Exception(message);
