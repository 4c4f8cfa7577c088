namespace TicketLab.Cli;

/// <summary>
/// The process around a command: its streams, the cancellation raised by Ctrl-C or SIGTERM, and
/// the exit code an interruption ends with (130 after Ctrl-C, 143 after SIGTERM, as shells expect).
/// </summary>
public sealed record CliEnvironment(TextWriter Stdout, TextWriter Stderr, bool Interactive, CancellationToken Cancellation)
{
    public Func<int> InterruptExitCode { get; init; } = () => Commands.CommandErrors.Interrupted;

    public static CliEnvironment ForTests(TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        new(stdout, stderr, Interactive: false, cancellation);
}
