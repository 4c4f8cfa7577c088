using Spectre.Console;

namespace TicketLab.Cli.Display;

/// <summary>
/// Where a command writes: human text to <see cref="Human"/> (stdout, or stderr under --json),
/// machine JSON to <see cref="Machine"/>, with a Spectre console over the human writer.
/// </summary>
public sealed class Output
{
    public Output(TextWriter stdout, TextWriter stderr, bool json, bool quiet, bool interactive)
    {
        Machine = stdout;
        Error = stderr;
        Human = json ? stderr : stdout;
        Json = json;
        UseProgressBar = !quiet && interactive && !json;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Human),
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        // Logs and pipes have no width; tables should not wrap there.
        if (!interactive) Console.Profile.Width = 200;
    }

    public TextWriter Machine { get; }
    public TextWriter Human { get; }
    public TextWriter Error { get; }
    public bool Json { get; }
    public bool UseProgressBar { get; }
    public IAnsiConsole Console { get; }
}
