using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Cli.Commands;

/// <summary>
/// Turns expected failures into one clear line on stderr (what, which file or flag, what to do)
/// and a distinct exit code; results already written stay. The codes:
/// 2 usage (a flag or argument), 3 data or store (a file that is missing, damaged, unreadable or
/// unwritable; a full disk), 4 the run diverged (a result, recorded in the store), 5 units of a
/// study failed, 6 units of a study are not done though none failed (cancelled, stopped, never run,
/// or waiting on one of those), 130 interrupted by Ctrl-C, 143 stopped by SIGTERM, 1 an internal error.
/// </summary>
public static class CommandErrors
{
    public const int InternalError = 1;
    public const int UsageError = 2;
    public const int DataError = 3;
    public const int Diverged = 4;
    /// <summary>A study ended with units that failed (each unit's own code is in its record and log).</summary>
    public const int UnitsFailed = 5;
    /// <summary>A study ended with units neither done nor failed: cancelled (scancel), stopped, or never run; the next run resumes them.</summary>
    public const int UnitsNotDone = 6;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    /// <summary>Set TICKETLAB_DEBUG=1 to get the stack trace of an error as well.</summary>
    public const string DebugVariable = "TICKETLAB_DEBUG";

    public static int Guard(CliEnvironment environment, Func<int> action)
    {
        try
        {
            int code = action();
            // A command that does not stop at each step (report, export) still ran to its end; the
            // signal that came meanwhile is said in its exit code, as a shell expects.
            if (environment.Cancellation.IsCancellationRequested && code == 0)
            {
                environment.Stderr.WriteLine("Interrupted after the command finished its work; its output is complete.");
                return environment.InterruptExitCode();
            }
            return code;
        }
        catch (OperationCanceledException)
        {
            environment.Stderr.WriteLine("Interrupted. Progress up to the last step is saved; run the same command again to resume.");
            return environment.InterruptExitCode();
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            environment.Stderr.WriteLine($"error: {message}");
            if (Environment.GetEnvironmentVariable(DebugVariable) is "1") environment.Stderr.WriteLine(e);
            return code;
        }
    }

    /// <summary>The exit code and the one-line message for a failure.</summary>
    public static (int Code, string Message) Classify(Exception e) => e switch
    {
        HparamException or TrainSubsetTooLargeException or TicketLab.Studies.StudyFileException => (UsageError, OneLine(e.Message)),
        RunDivergedException => (Diverged, OneLine(e.Message)),
        DatasetNotFoundException or DatasetFormatException or InvalidDataException or RunLockedException or StoreException or RunIntegrityException
            => (DataError, OneLine(e.Message)),
        TypeInitializationException { TypeName: "TorchSharp.torch" } when Environment.GetEnvironmentVariable(CudaLauncher.ActiveVariable) == "1"
            => (DataError, $"TorchSharp could not load the libtorch in {Environment.GetEnvironmentVariable("LD_LIBRARY_PATH")?.Split(':')[0]} "
                + $"(TorchSharp 0.107 is built against libtorch 2.10; a PyTorch whose libtorch lacks a symbol it needs cannot be used). Point {TicketLab.Devices.LibTorchLocator.Flag} at another PyTorch, or use --device cpu."),
        IOException io when IsDiskFull(io)
            => (DataError, $"the disk is full ({OneLine(io.Message)}). Free some space and run the same command again: it resumes from its last checkpoint."),
        UnauthorizedAccessException or IOException => (DataError, $"{OneLine(e.Message)} Check that the path exists and that you may read and write it."),
        _ => (InternalError, $"internal error ({e.GetType().Name}: {OneLine(e.Message)}). Please report it; {DebugVariable}=1 shows the stack trace."),
    };

    // ENOSPC is errno 28; .NET reports it with that code as the exception's HResult.
    private static bool IsDiskFull(IOException e) =>
        e.HResult == 28 || e.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first line of a message: multi-line messages (e.g. "not found" listings) lead with their summary.</summary>
    private static string OneLine(string message) => message.Split('\n', 2)[0].TrimEnd();
}
