namespace TicketLab.Cli;

/// <summary>
/// The process around a command: its streams, the cancellation raised by Ctrl-C or SIGTERM, and
/// the exit code an interruption ends with (130 after Ctrl-C, 143 after SIGTERM, as shells expect).
/// </summary>
public sealed record CliEnvironment(TextWriter Stdout, TextWriter Stderr, bool Interactive, CancellationToken Cancellation)
{
    public Func<int> InterruptExitCode { get; init; } = () => Commands.CommandErrors.Interrupted;

    /// <summary>
    /// When set, a command that stores an experiment only names it: it reads its flags, passes the
    /// experiment's store name (<c>lottery_&lt;hash&gt;</c>, <c>rewind_sweep_&lt;hash&gt;.json</c>) here and
    /// returns 0 without running. Studies use it to find their results without a second naming rule.
    /// </summary>
    public Action<string>? NameOnly { get; init; }

    /// <summary>Runs another process is writing are waited for, then used (study units share runs); otherwise refused.</summary>
    public bool WaitForLocks { get; init; }

    /// <summary>Hands the experiment's name to <see cref="NameOnly"/> when set; true when the command should stop there.</summary>
    public bool OnlyNames(string experiment)
    {
        if (NameOnly is not { } sink) return false;
        sink(experiment);
        return true;
    }

    public static CliEnvironment ForTests(TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        new(stdout, stderr, Interactive: false, cancellation);
}
