using System.CommandLine;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;

namespace TicketLab.Cli.Commands;

/// <summary>Options that identify a lottery run: the training recipe plus pruning and rewinding.</summary>
internal sealed class LotteryOptions
{
    /// <param name="manyReplicates">Whether the command also takes <c>--replicates</c> (1..N, or a list).</param>
    public LotteryOptions(PresetDefaults defaults, bool manyReplicates = true)
    {
        this.manyReplicates = manyReplicates;
        Training = new TrainingCommandSupport(defaults.Training);
        Pruning = new HparamOptions<PruningHparams>(defaults.Pruning);
        Lottery = new HparamOptions<LotteryHparams>(new LotteryHparams());
    }

    public TrainingCommandSupport Training { get; }
    public HparamOptions<PruningHparams> Pruning { get; }
    public HparamOptions<LotteryHparams> Lottery { get; }
    public Option<int[]?> Replicates { get; } = ReplicateSets.Option();

    private readonly bool manyReplicates;

    public void AddTo(Command command)
    {
        Training.AddTo(command);
        Pruning.AddTo(command);
        Lottery.AddTo(command);
        if (manyReplicates) command.Options.Add(Replicates);
    }

    public LotteryDesc ReadDesc(ParseResult result)
    {
        var desc = new LotteryDesc(Training.ReadDesc(result), Pruning.Read(result), Lottery.Read(result));
        desc.Validate();
        return desc;
    }

    /// <summary>What every command on a lottery run reads first: output, the run's description, run options, context.</summary>
    public (Output Output, LotteryDesc Desc, TicketLab.Training.RunOptions Run, TicketLab.Training.RunContext Context) Prepare(
        ParseResult result, CliEnvironment environment)
    {
        var output = Training.ReadOutput(result, environment);
        var desc = ReadDesc(result);
        return (output, desc, Training.ReadRunOptions(result), Training.CreateContext(result, environment, output));
    }

    public IReadOnlyList<int> ReadReplicates(ParseResult result) =>
        manyReplicates && result.GetValue(Replicates) is { Length: > 0 } replicates ? replicates : [result.GetValue(Training.Run.Replicate)];
}
