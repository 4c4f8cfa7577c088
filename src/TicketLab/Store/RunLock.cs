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
            // The holder's pid goes to a separate, unlocked file so that a refused process can name it.
            File.WriteAllText(PidPath(folder), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new RunLock(stream);
        }
        catch (IOException)
        {
            string owner = "another process";
            try { owner = $"process {File.ReadAllText(PidPath(folder)).Trim()}"; } catch (IOException) { }
            throw new RunLockedException($"{folder} is being written by {owner}. Wait for it to finish, or stop it; two processes must not write the same run.");
        }
    }

    private static string PidPath(string folder) => Path.Combine(folder, "run.pid");

    public void Dispose() => stream.Dispose();
}

public sealed class RunLockedException(string message) : Exception(message);
