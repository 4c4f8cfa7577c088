using TicketLab.Cli.Commands;
using TicketLab.Experiments;
using TicketLab.Store;

namespace TicketLab.Cli.Display;

/// <summary>How every experiment command ends: its tables and lines, its results.csv, its JSON, its errors and exit code.</summary>
internal static class OutcomeView
{
    public static int Write(Output output, CliEnvironment environment, ExperimentStore store, ExperimentOutcome outcome)
    {
        foreach (var table in outcome.Tables) ReportTableView.Write(output, table);
        foreach (var note in outcome.Notes) output.Human.WriteLine(note);
        TrainingCommandSupport.WriteResults(output, store, outcome.StoreEntry);
        if (output.Json && outcome.Json is not null) TrainingCommandSupport.PrintJson(output, outcome.Json);
        foreach (var error in outcome.Errors) environment.Stderr.WriteLine($"error: {error}");
        return outcome.ExitCode;
    }
}

/// <summary>The library's progress host: a progress bar, or epoch lines, on every run an experiment starts.</summary>
internal sealed class CliProgress(Output output) : IProgressHost
{
    public T Track<T>(TicketLab.Training.RunContext context, Func<TicketLab.Training.RunContext, T> work) =>
        TrainingCommandSupport.WithProgress(output, context, work);
}
