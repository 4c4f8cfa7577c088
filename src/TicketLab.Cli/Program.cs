using System.Runtime.InteropServices;
using TicketLab.Cli;

// Ctrl-C and SIGTERM ask the run to stop at the next step; it saves a checkpoint and exits.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancellation.IsCancellationRequested; // a second Ctrl-C kills at once
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

bool interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
return CliApp.Run(args, new CliEnvironment(Console.Out, Console.Error, interactive, cancellation.Token));
