namespace TicketLab.Store;

/// <summary>
/// An exclusive lock on a run folder, so two processes never write the same run. The OS drops
/// it when the process dies (kill -9 included), so a crashed run never needs manual cleanup.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream stream;
    private readonly string folder;
    private readonly bool createdFolder;

    // The folders whose lock this process holds, so that it can tell its own runs from runs another process writes.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> heldHere = new(StringComparer.Ordinal);

    private RunLock(FileStream stream, string folder, bool createdFolder) =>
        (this.stream, this.folder, this.createdFolder) = (stream, folder, createdFolder);

    public static RunLock Acquire(string folder)
    {
        bool created = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        string path = LockPath(folder);
        FileStream stream;
        try
        {
            stream = OpenLock(path);
        }
        catch (IOException e) when (e.HResult != DiskFull)
        {
            string owner = "another process";
            try { owner = File.ReadAllText(PidPath(folder)).Trim() is { Length: > 0 } pid ? $"process {pid}" : owner; } catch (IOException) { }
            throw new RunLockedException($"{folder} is being written by {owner}. Wait for it to finish, or stop it; two processes must not write the same run.");
        }
        if (!File.Exists(path))
        {
            // The previous holder removed the file between our open and our lock: the lock we hold
            // is on a deleted file, so take it again on the new one.
            stream.Dispose();
            return Acquire(folder);
        }
        var runLock = new RunLock(stream, folder, created);
        heldHere[Key(folder)] = 0;
        try
        {
            // The holder's pid goes to a separate, unlocked file so that a refused process can name it.
            File.WriteAllText(PidPath(folder), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            runLock.Dispose(); // a full disk: no empty run.pid, lock or folder left behind; the error says why
            throw;
        }
        return runLock;
    }

    // ENOSPC, as .NET reports it in IOException.HResult on Linux.
    private const int DiskFull = 28;

    /// <summary>
    /// Opens the lock file exclusively. A refusal is tried again for a moment first: <see cref="IsHeld"/>
    /// in another process (a status read) takes a shared lock for a moment to probe it, and must not
    /// look like a run being written.
    /// </summary>
    private static FileStream OpenLock(string path)
    {
        var refusedSince = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e.HResult != DiskFull && refusedSince.Elapsed < ProbeWindow)
            {
                Thread.Sleep(20);
            }
        }
    }

    // Far longer than a probe lasts, even on a loaded machine; far shorter than any run.
    private static readonly TimeSpan ProbeWindow = TimeSpan.FromSeconds(1);

    private static string Key(string folder) => Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);

    /// <summary>Whether another process holds the lock of a run folder now: a run it is writing, whose files this process may see half-written.</summary>
    public static bool IsHeldElsewhere(string folder) => !heldHere.ContainsKey(Key(folder)) && IsHeld(folder);

    /// <summary>
    /// The lock, after waiting for the process that holds it to finish (told once through
    /// <paramref name="onWait"/>); null when cancelled while waiting.
    /// </summary>
    public static RunLock? AcquireWaiting(string folder, CancellationToken cancellation, Action<string>? onWait = null)
    {
        bool told = false;
        while (true)
        {
            try
            {
                return Acquire(folder);
            }
            catch (RunLockedException e)
            {
                if (!told) onWait?.Invoke(e.Message.Split(". ")[0]);
                told = true;
                if (cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(1))) return null;
            }
        }
    }

    private static string PidPath(string folder) => Path.Combine(folder, "run.pid");
    private static string LockPath(string folder) => Path.Combine(folder, "run.lock");

    /// <summary>
    /// Whether a process holds the lock of a run folder now (a run being written). The probe takes a
    /// shared lock for a moment, never the exclusive one: probes (a status read in each of several
    /// processes) do not refuse each other, so only a holder reads as "held".
    /// </summary>
    public static bool IsHeld(string folder)
    {
        string path = LockPath(folder);
        if (!File.Exists(path)) return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false; // released and removed between the two checks
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>
    /// Releases the lock and removes its files, so a clean exit leaves no trace of the lock; a run
    /// folder this lock created and nothing else wrote to is removed too (no phantom "new" run).
    /// </summary>
    public void Dispose()
    {
        heldHere.TryRemove(Key(folder), out _);
        try
        {
            File.Delete(PidPath(folder));
            File.Delete(LockPath(folder)); // deleted while held, so no other process can hold it meanwhile
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        stream.Dispose();
        try
        {
            if (createdFolder && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
        catch (IOException) { }
    }
}

public sealed class RunLockedException(string message) : Exception(message);
