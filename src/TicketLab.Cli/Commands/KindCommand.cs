using System.CommandLine;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Experiments;
using TicketLab.Hyperparameters;

namespace TicketLab.Cli.Commands;

/// <summary>
/// The command of a registered experiment kind (<see cref="ExperimentRegistry"/>), made from what the
/// kind declares: the flags naming its recipe or lottery run, its replicates, its own hyperparameter
/// record's flags. It reads them, hands them to the kind's <see cref="ExperimentKind.Run"/> and prints
/// the outcome: parse, call, print.
/// </summary>
internal static class KindCommand
{
    public static Command Create(ExperimentKind kind, CliEnvironment environment, PresetDefaults defaults)
    {
        var command = new Command(kind.CommandName, kind.CommandDescription);
        bool many = kind.ReplicateFlags == ReplicateFlags.OneOrMany;
        var lottery = kind.Inputs == CommandInputs.LotteryRun ? new LotteryOptions(defaults, many) : null;
        var training = lottery?.Training ?? new TrainingCommandSupport(defaults.Training, replicateFlag: kind.ReplicateFlags != ReplicateFlags.InRecord);
        var replicates = lottery is null && many ? ReplicateSets.Option() : null;
        var own = new HparamOptionSet(kind.HparamsType, kind.DefaultHparams);
        if (lottery is not null) lottery.AddTo(command); else training.AddTo(command);
        if (replicates is not null) command.Options.Add(replicates);
        own.AddTo(command);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var hparams = (IHparams)own.ReadObject(result);
            hparams.Validate();
            var lotteryDesc = lottery?.ReadDesc(result);
            var inputs = new ExperimentInputs(lotteryDesc?.Training ?? training.ReadDesc(result), lotteryDesc, hparams, ReadReplicates(result, kind, lottery, training, replicates));
            if (environment.OnlyNames(kind.EntryName(inputs))) return 0;
            var output = training.ReadOutput(result, environment);
            var runOptions = training.ReadRunOptions(result);
            var context = training.CreateContext(result, environment, output);
            var outcome = kind.Run(new ExperimentRequest(inputs, runOptions, context, new CliProgress(output)));
            return OutcomeView.Write(output, environment, context.Store, outcome);
        }));
        return command;
    }

    private static IReadOnlyList<int> ReadReplicates(ParseResult result, ExperimentKind kind, LotteryOptions? lottery, TrainingCommandSupport training, Option<int[]?>? replicates)
    {
        if (kind.ReplicateFlags == ReplicateFlags.InRecord) return [];
        if (lottery is not null) return lottery.ReadReplicates(result);
        if (replicates is not null && result.GetValue(replicates) is { Length: > 0 } listed) return listed; // not given: an empty array
        return [result.GetValue(training.Run.Replicate)];
    }
}
