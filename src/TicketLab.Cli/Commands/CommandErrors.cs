using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Store;

namespace TicketLab.Cli.Commands;

/// <summary>Turns expected failures into one clear line on stderr and an exit code; results already written stay.</summary>
internal static class CommandErrors
{
    public const int UsageError = 2;
    public const int DataError = 3;
    public const int Interrupted = 130;

    public static int Guard(CliEnvironment environment, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (HparamException e)
        {
            environment.Stderr.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is DatasetNotFoundException or DatasetFormatException or InvalidDataException or RunLockedException)
        {
            environment.Stderr.WriteLine($"error: {e.Message}");
            return DataError;
        }
        catch (OperationCanceledException)
        {
            environment.Stderr.WriteLine("Interrupted. Progress up to the last step is saved; run the same command again to resume.");
            return Interrupted;
        }
    }
}
