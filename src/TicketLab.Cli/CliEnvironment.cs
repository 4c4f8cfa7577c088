namespace TicketLab.Cli;

/// <summary>The process around a command: its streams and the cancellation raised by Ctrl-C or SIGTERM.</summary>
public sealed record CliEnvironment(TextWriter Stdout, TextWriter Stderr, bool Interactive, CancellationToken Cancellation)
{
    public static CliEnvironment ForTests(TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        new(stdout, stderr, Interactive: false, cancellation);
}
