using System.Diagnostics;
using System.Globalization;
using TicketLab.Studies;

namespace TicketLab.Cli.Studies;

/// <summary>
/// One <c>ticketlab study worker</c> process, seen from the executor: the unit it runs (null when
/// idle), and the answers it will give (an exit code for each unit, or its death).
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly Stopwatch clock = new();

    private WorkerProcess(Process process) => this.process = process;

    /// <summary>The units it runs now, one or a group that trains together (<see cref="UnitGroups"/>); null when idle.</summary>
    public IReadOnlyList<StudyUnit>? Units { get; private set; }
    public DateTimeOffset AssignedAt { get; private set; }
    /// <summary>Completes with the answer line of each unit, as far as the worker gave them before it ended.</summary>
    public Task<IReadOnlyDictionary<string, int>>? Reply { get; private set; }
    public int Pid => process.Id;

    public static WorkerProcess Start(IReadOnlyList<string> commandLine)
    {
        // Standard error is the executor's: a worker prints there only outside its units (each unit's output goes to its log).
        var start = new ProcessStartInfo(commandLine[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in commandLine.Skip(1)) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {commandLine[0]}");
        return new WorkerProcess(process);
    }

    /// <summary>Hands the worker one unit, or a group to train together: their ids on one line, tab-separated.</summary>
    public void Assign(IReadOnlyList<StudyUnit> units)
    {
        Units = units;
        AssignedAt = DateTimeOffset.UtcNow;
        clock.Restart();
        Reply = ReadAnswers(units.Count);
        try
        {
            process.StandardInput.WriteLine(string.Join('\t', units.Select(u => u.Id)));
            process.StandardInput.Flush();
        }
        catch (IOException) { } // the worker is gone: its reply reads as a death
    }

    private async Task<IReadOnlyDictionary<string, int>> ReadAnswers(int count)
    {
        var codes = new Dictionary<string, int>();
        while (codes.Count < count && await process.StandardOutput.ReadLineAsync() is { } line)
            if (line.Split('\t') is [UnitWorker.Answer, var id, var code])
                codes[id] = int.Parse(code, CultureInfo.InvariantCulture);
        return codes;
    }

    /// <summary>
    /// Each unit the worker ran with its exit code, and the seconds it took; <paramref name="died"/>
    /// when the worker ended before answering for every unit (those get its exit code).
    /// </summary>
    public (IReadOnlyList<(StudyUnit Unit, int Code, bool Answered)> Results, double Seconds) Collect(out bool died)
    {
        var units = Units!;
        var answers = Reply!.Result;
        Units = null;
        Reply = null;
        died = answers.Count < units.Count;
        int? deathCode = null;
        if (died)
        {
            process.WaitForExit();
            // A worker that ended without a word still failed its unit, even with code 0.
            deathCode = process.ExitCode == 0 ? Commands.CommandErrors.InternalError : process.ExitCode;
        }
        return (units.Select(u => answers.TryGetValue(u.Id, out int code) ? (u, code, true) : (u, deathCode!.Value, false)).ToArray(), clock.Elapsed.TotalSeconds);
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
