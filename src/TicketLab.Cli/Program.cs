using System.Runtime.InteropServices;
using TicketLab.Cli;
using TicketLab.Cli.Commands;

// --device cuda with an installed PyTorch's libtorch runs this program again with it on the library path.
if (CudaLauncher.RelaunchIfNeeded(args, Console.Error, pid => Signals.Send(pid, Signals.SigTerm)) is int relaunched) return relaunched;

// Ctrl-C and SIGTERM ask the run to stop at the next step; it saves a checkpoint and exits
// with 130 or 143, the codes a shell gives a process ended by SIGINT or SIGTERM.
using var cancellation = new CancellationTokenSource();
int interruptExitCode = CommandErrors.Interrupted;
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancellation.IsCancellationRequested; // a second Ctrl-C kills at once
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interruptExitCode = CommandErrors.Terminated;
    cancellation.Cancel();
});

bool interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
TicketLab.Store.StoreNotices.Out = Console.Error;
var environment = new CliEnvironment(Console.Out, Console.Error, interactive, cancellation.Token) { InterruptExitCode = () => interruptExitCode };
return CliApp.Run(args, environment);

