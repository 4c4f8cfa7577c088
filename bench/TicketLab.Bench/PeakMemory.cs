namespace TicketLab.Bench;

/// <summary>The process's peak resident set (VmHWM on Linux), the figure the PyTorch peers print from ru_maxrss.</summary>
internal static class PeakMemory
{
    public static double MiB => System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

    public static string Describe() => $"peak resident memory: {MiB:F0} MiB";
}
