using System.Text.Json.Nodes;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;
using TicketLab.Training;

namespace TicketLab.Experiments;

/// <summary>What a kind's command names its experiment from, before its own flags: a training recipe, or a lottery run (recipe, pruning, rewinding).</summary>
public enum CommandInputs { TrainingRecipe, LotteryRun }

/// <summary>How a kind's command takes replicates.</summary>
public enum ReplicateFlags
{
    /// <summary><c>--replicate N</c> only.</summary>
    One,
    /// <summary><c>--replicate N</c>, or <c>--replicates N</c> for 1..N.</summary>
    OneOrMany,
    /// <summary>None: the kind's own record counts them (a rewind sweep's <c>--replicates</c>).</summary>
    InRecord,
}

/// <summary>A kind whose command takes no flags of its own.</summary>
public sealed record NoHparams : IHparams
{
    public void Validate() { }
}

/// <summary>
/// Where a running experiment's training runs report progress: the CLI attaches a progress bar or epoch
/// lines to every run started inside <see cref="Track{T}"/>; library callers pass <see cref="None"/>.
/// </summary>
public interface IProgressHost
{
    T Track<T>(RunContext context, Func<RunContext, T> work);

    public static IProgressHost None { get; } = new NoProgress();

    private sealed class NoProgress : IProgressHost
    {
        public T Track<T>(RunContext context, Func<RunContext, T> work) => work(context);
    }
}

/// <summary>The flags of a kind's command, as read: the recipe (and lottery run), the kind's own record, the replicates.</summary>
public sealed record ExperimentInputs(TrainingDesc Training, LotteryDesc? Lottery, IHparams Hparams, IReadOnlyList<int> Replicates)
{
    public LotteryDesc LotteryRun => Lottery ?? throw new InvalidOperationException("this kind's command has no lottery run");
}

/// <summary>Everything a kind's <see cref="ExperimentKind.Run"/> gets.</summary>
public sealed record ExperimentRequest(ExperimentInputs Inputs, RunOptions Options, RunContext Context, IProgressHost Progress)
{
    /// <summary>Human text as the run goes (the command's stdout, or stderr under --json).</summary>
    public TextWriter Log => Context.Log;
}

/// <summary>
/// What a run of a kind's command ends with: the store entry it wrote (its results.csv is written
/// beside it), tables and lines for people, JSON for scripts, and errors with the exit code.
/// </summary>
public sealed record ExperimentOutcome(string StoreEntry)
{
    public IReadOnlyList<ReportTable> Tables { get; init; } = [];
    /// <summary>Lines after the tables.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
    public JsonNode? Json { get; init; }
    /// <summary>Problems that end the command with <see cref="ExitCode"/> (the results are stored); each written as "error: ...".</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
    public int ExitCode { get; init; }

    /// <summary>Exit code of a command whose training diverged (the divergence is a stored result).</summary>
    public const int Diverged = 4;
}
