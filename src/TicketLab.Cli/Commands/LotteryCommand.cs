using System.CommandLine;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;

namespace TicketLab.Cli.Commands;

/// <summary>Options that identify a lottery run: the training recipe plus pruning and rewinding.</summary>
internal sealed class LotteryOptions
{
    public LotteryOptions(PresetDefaults defaults)
    {
        Training = new TrainingCommandSupport(defaults.Training);
        Pruning = new HparamOptions<PruningHparams>(defaults.Pruning);
        Lottery = new HparamOptions<LotteryHparams>(new LotteryHparams());
    }

    public TrainingCommandSupport Training { get; }
    public HparamOptions<PruningHparams> Pruning { get; }
    public HparamOptions<LotteryHparams> Lottery { get; }
    public Option<int?> Replicates { get; } = new("--replicates") { Description = "Run replicates 1..N (instead of the single --replicate)" };

    public void AddTo(Command command)
    {
        Training.AddTo(command);
        Pruning.AddTo(command);
        Lottery.AddTo(command);
        command.Options.Add(Replicates);
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
        result.GetValue(Replicates) is { } count
            ? count >= 1 ? Enumerable.Range(1, count).ToArray() : throw new HparamException("--replicates", $"must be at least 1, got {count}.")
            : [result.GetValue(Training.Run.Replicate)];
}

/// <summary><c>ticketlab lottery</c>: iterative magnitude pruning with rewinding.</summary>
internal static class LotteryCommand
{
    public static Command Create(CliEnvironment environment, PresetDefaults defaults)
    {
        var options = new LotteryOptions(defaults);
        var levels = new Option<int>("--levels") { Description = "Pruning levels after the dense level 0", DefaultValueFactory = _ => 10 };
        var command = new Command("lottery", "Find lottery tickets by iterative magnitude pruning: train, prune, rewind, retrain. Results go to <root>/lottery_<hash>/replicate_<n>/level_<L>/main.");
        options.AddTo(command);
        command.Options.Add(levels);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            int levelCount = result.GetValue(levels);
            if (levelCount < 0) throw new HparamException("--levels", $"must not be negative, got {levelCount}.");
            if (environment.OnlyNames(options.ReadDesc(result).RunName)) return 0;
            var (output, desc, runOptions, context) = options.Prepare(result, environment);
            output.Human.WriteLine($"Lottery run {desc.RunName}: {levelCount} level(s), rewinding to {desc.Lottery.RewindStep}.");
            output.Human.Write(TrainCommand.DescribeDesc(desc.Training) + HparamJson.Describe(desc.Pruning) + HparamJson.Describe(desc.Lottery));
            output.Human.Write("Pruning per tensor, as applied:\n" + LotteryRunner.EffectiveRates(desc, context));
            output.Human.WriteLine($"Output: {context.Store.ExperimentFolder(desc.RunName)}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var diverged = new List<(int Replicate, LevelResult Level)>();
            foreach (int replicate in options.ReadReplicates(result))
            {
                var levels = TrainingCommandSupport.WithProgress(output, context, c => LotteryRunner.Run(desc, replicate, levelCount, runOptions, c));
                diverged.AddRange(levels.Where(l => l.Summary.Diverged).Select(l => (replicate, l)));
            }
            output.Human.WriteLine($"Wall time: {clock.Elapsed.TotalSeconds:F1} s.");
            var table = LotteryTable.Read(context.Store, desc.RunName);
            LotteryTableView.Write(output, table);
            TrainingCommandSupport.WriteResults(output, context.Store, desc.RunName);
            if (output.Json) TrainingCommandSupport.PrintJson(output, table.ToJson());
            // Divergence is a result, shown in the table; the exit code still tells a script that IMP stopped early.
            foreach (var (replicate, level) in diverged)
                environment.Stderr.WriteLine($"error: level {level.Level} of replicate {replicate} {level.Summary.DivergenceText}; IMP stopped there. Lower --lr (or add --warmup-steps) and run again.");
            return diverged.Count > 0 ? CommandErrors.Diverged : 0;
        }));
        return command;
    }
}
