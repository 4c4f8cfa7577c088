using System.Diagnostics;
using System.Runtime.InteropServices;
using TicketLab.Devices;

namespace TicketLab.Cli;

/// <summary>
/// <c>--device cuda</c> with the libtorch of an installed PyTorch: the dynamic loader reads
/// <c>LD_LIBRARY_PATH</c> only when a process starts, so TicketLab finds that libtorch
/// (<see cref="LibTorchLocator"/>), says what it found, and runs itself again with the library
/// folder on the path. TorchSharp then loads <c>libtorch_cuda.so</c> from there by name.
/// </summary>
public static class CudaLauncher
{
    /// <summary>Set in the relaunched process, so that it runs the command instead of relaunching again.</summary>
    public const string ActiveVariable = "TICKETLAB_LIBTORCH_ACTIVE";

    /// <summary>The exit code of the relaunched run, or null when this process should run the command itself.</summary>
    public static int? RelaunchIfNeeded(string[] args, TextWriter stderr, Func<int, int>? forwardSignal = null)
    {
        if (!WantsCuda(args) || Environment.GetEnvironmentVariable(ActiveVariable) == "1" || args.Contains("--help") || args.Contains("-h")) return null;
        LibTorchInstall install;
        try
        {
            install = LibTorchLocator.Find(FlagValue(args, LibTorchLocator.Flag), Environment.GetEnvironmentVariable(LibTorchLocator.Variable));
        }
        catch (LibTorchNotFoundException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Commands.CommandErrors.UsageError;
        }
        stderr.WriteLine($"Using {install.Describe}.");
        var command = Studies.UnitRunner.SelfCommand();
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var arg in command.Skip(1).Concat(args)) start.ArgumentList.Add(arg);
        string? path = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        start.Environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(path) ? install.LibFolder : $"{install.LibFolder}:{path}";
        start.Environment[ActiveVariable] = "1";
        using var process = Process.Start(start)!;
        // SIGTERM to this process reaches the run, which checkpoints and exits 143 (Ctrl-C reaches the whole process group anyway).
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            forwardSignal?.Invoke(process.Id);
        });
        process.WaitForExit();
        return process.ExitCode;
    }

    public static bool WantsCuda(IReadOnlyList<string> args) =>
        FlagValue(args, "--device") is "cuda" || args.Contains("--device=cuda");

    private static string? FlagValue(IReadOnlyList<string> args, string flag)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == flag && i + 1 < args.Count) return args[i + 1];
            if (args[i].StartsWith(flag + "=", StringComparison.Ordinal)) return args[i][(flag.Length + 1)..];
        }
        return null;
    }
}
