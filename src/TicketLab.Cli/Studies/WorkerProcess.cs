using System.Diagnostics;
using System.Globalization;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>
/// One <c>ticketlab study worker</c> process, seen from the executor: the unit it runs (null when
/// idle), and the answer it will give (its exit code for the unit, or its death).
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly Stopwatch clock = new();

    private WorkerProcess(Process process) => this.process = process;

    public StudyUnit? Unit { get; private set; }
    public DateTimeOffset AssignedAt { get; private set; }
    /// <summary>Completes with the answer line, or null when the worker ended first.</summary>
    public Task<string?>? Reply { get; private set; }
    public int Pid => process.Id;

    public static WorkerProcess Start(IReadOnlyList<string> commandLine)
    {
        // Standard error is the executor's: a worker prints there only outside its units (each unit's output goes to its log).
        var start = new ProcessStartInfo(commandLine[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in commandLine.Skip(1)) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {commandLine[0]}");
        return new WorkerProcess(process);
    }

    public void Assign(StudyUnit unit)
    {
        Unit = unit;
        AssignedAt = DateTimeOffset.UtcNow;
        clock.Restart();
        Reply = ReadAnswer();
        try
        {
            process.StandardInput.WriteLine(unit.Id);
            process.StandardInput.Flush();
        }
        catch (IOException) { } // the worker is gone: its reply reads as a death
    }

    private async Task<string?> ReadAnswer()
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
            if (line.StartsWith(UnitWorker.Answer + "\t", StringComparison.Ordinal)) return line;
        return null;
    }

    /// <summary>The unit the worker answered for, its exit code and seconds; <paramref name="died"/> when the worker ended instead.</summary>
    public (StudyUnit Unit, int Code, double Seconds) Collect(out bool died)
    {
        var unit = Unit!;
        string? answer = Reply!.Result;
        Unit = null;
        Reply = null;
        died = answer is null;
        if (answer is not null) return (unit, int.Parse(answer.Split('\t')[2], CultureInfo.InvariantCulture), clock.Elapsed.TotalSeconds);
        process.WaitForExit();
        // A worker that ended without a word still failed its unit, even with code 0.
        return (unit, process.ExitCode == 0 ? Commands.CommandErrors.InternalError : process.ExitCode, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Asks the running unit to save a checkpoint and stop; an idle worker ends.</summary>
    public void Stop()
    {
        try { if (!process.HasExited) Signals.Send(process.Id, Signals.SigTerm); }
        catch (InvalidOperationException) { }
    }

    /// <summary>Ends the worker: no more units (its input closes), then waits for it to leave.</summary>
    public void Dispose()
    {
        try { process.StandardInput.Close(); }
        catch (IOException) { }
        if (!process.WaitForExit(TimeSpan.FromSeconds(30))) process.Kill();
        process.Dispose();
    }
}
