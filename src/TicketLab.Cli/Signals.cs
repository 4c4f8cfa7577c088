using System.Runtime.InteropServices;

namespace TicketLab.Cli;

/// <summary>POSIX signals to child processes (.NET can only kill them outright).</summary>
internal static class Signals
{
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>: 0 when sent, -1 when not (kill(2)).</summary>
    public static int Send(int pid, int signal) => Kill(pid, signal);
}
