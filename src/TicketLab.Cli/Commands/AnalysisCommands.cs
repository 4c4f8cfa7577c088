using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using TicketLab.Analysis;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;

namespace TicketLab.Cli.Commands;

/// <summary>Flags of the interpolation between two networks, made from <see cref="InterpolationOptions"/>.</summary>
internal sealed class InterpolationBinding
{
    private readonly HparamOptions<InterpolationOptions> options = new(new InterpolationOptions());

    public void AddTo(Command command) => options.AddTo(command);

    public InterpolationOptions Read(ParseResult result)
    {
        var value = options.Read(result);
        value.Validate();
        return value;
    }
}

internal static class AnalysisCommands
{
    /// <summary>An error-barrier threshold flag, defaulting to Frankle et al.'s (2020) 2 percentage points.</summary>
    private static Option<double> BarrierThreshold(string name, string meaning) => new(name)
    {
        Description = $"Error barrier (as a fraction) under which {meaning} (Frankle et al. 2020: {InterpolationCurve.StabilityThreshold})",
        DefaultValueFactory = _ => InterpolationCurve.StabilityThreshold,
    };

    private static Option<double> StabilityThreshold() => BarrierThreshold("--stability-threshold", "training counts as stable to SGD noise");

    private static double ReadThreshold(ParseResult result, Option<double> option)
    {
        double value = result.GetValue(option);
        if (!(value > 0 && value < 1)) throw new HparamException(option.Name, $"must be a fraction in (0, 1), got {value}.");
        return value;
    }

    /// <summary><c>ticketlab instability</c>: train two copies from one state with different data orders and interpolate.</summary>
    public static Command Instability(CliEnvironment environment, PresetDefaults defaults)
    {
        var options = new LotteryOptions(defaults);
        var interpolation = new InterpolationBinding();
        var startStep = new Option<string>("--start-step") { Description = "Start from the state at this step of the training run (0it: initialization)", DefaultValueFactory = _ => "0it" };
        var level = new Option<int?>("--level") { Description = "Start from this level's rewound subnetwork of the lottery run given by the same flags (instead of --start-step)" };
        var command = new Command("instability", "Instability analysis: train two copies from one state with different data orders and measure the error barrier between them.");
        options.AddTo(command);
        interpolation.AddTo(command);
        command.Options.Add(startStep);
        command.Options.Add(level);
        var threshold = StabilityThreshold();
        command.Options.Add(threshold);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var interpolationOptions = interpolation.Read(result);
            double stability = ReadThreshold(result, threshold);
            var start = result.GetValue(level) is { } l
                ? InstabilityStart.FromLottery(options.ReadDesc(result), l)
                : InstabilityStart.FromTraining(options.ReadDesc(result).Training, ParseStep(result.GetValue(startStep), "--start-step"));
            if (environment.OnlyNames(start.RunName)) return 0;
            var (output, _, runOptions, context) = options.Prepare(result, environment);
            output.Human.WriteLine($"Instability analysis {start.RunName} from {start.Describe}.");
            var results = options.ReadReplicates(result)
                .Select(r => TrainingCommandSupport.WithProgress(output, context, c => InstabilityAnalysis.Run(start, r, interpolationOptions, runOptions, c)))
                .ToArray();
            var row = new SweepRow(start.Step, results);
            WriteSweep(output, [row], $"Instability from {start.Describe}", stability);
            TrainingCommandSupport.WriteResults(output, context.Store, start.RunName);
            if (output.Json) TrainingCommandSupport.PrintJson(output, row.ToJson());
            return 0;
        }));
        return command;
    }

    /// <summary><c>ticketlab rewind-sweep</c>: instability analysis from several steps of one recipe.</summary>
    public static Command RewindSweep(CliEnvironment environment, PresetDefaults defaults)
    {
        var support = new TrainingCommandSupport(defaults.Training);
        var interpolation = new InterpolationBinding();
        var steps = new Option<string>("--steps") { Description = "Start steps, e.g. 0it,100it,500it,1ep,2ep,5ep,10ep", DefaultValueFactory = _ => "0it,100it,500it,1ep,2ep,5ep,10ep" };
        var replicates = new Option<int>("--replicates") { Description = "Seed pairs (and initializations) per step", DefaultValueFactory = _ => 1 };
        var command = new Command("rewind-sweep", "Error barrier vs the step the two copies start from: when training becomes stable to SGD noise.");
        support.AddTo(command);
        interpolation.AddTo(command);
        command.Options.Add(steps);
        command.Options.Add(replicates);
        var threshold = StabilityThreshold();
        command.Options.Add(threshold);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            double stability = ReadThreshold(result, threshold);
            var output = support.ReadOutput(result, environment);
            var desc = support.ReadDesc(result);
            var stepList = RunOptionsBinding.ParseSteps(result.GetValue(steps), "--steps");
            int count = result.GetValue(replicates);
            if (count < 1) throw new HparamException("--replicates", $"must be at least 1, got {count}.");
            var interpolationOptions = interpolation.Read(result);
            if (environment.OnlyNames(TicketLab.Analysis.RewindSweep.FileName(desc, stepList, count, interpolationOptions))) return 0;
            var runOptions = support.ReadRunOptions(result);
            var context = support.CreateContext(result, environment, output);
            output.Human.WriteLine($"Rewind sweep of {desc.RunName} over {string.Join(", ", stepList)} with {count} replicate(s).");
            var rows = TrainingCommandSupport.WithProgress(output, context,
                c => TicketLab.Analysis.RewindSweep.Run(desc, stepList, Enumerable.Range(1, count).ToArray(), interpolationOptions, runOptions, c));
            var json = new JsonObject
            {
                ["training_run"] = desc.RunName, ["training"] = desc.ToJson(), ["interpolation"] = interpolationOptions.ToJson(),
                ["rows"] = new JsonArray(rows.Select(r => (JsonNode)r.ToJson()).ToArray()),
            };
            string sweepFile = Path.Combine(context.Store.Root, TicketLab.Analysis.RewindSweep.FileName(desc, stepList, count, interpolationOptions));
            AtomicFile.WriteJson(sweepFile, json);
            WriteSweep(output, rows, $"Rewind sweep of {desc.RunName} (saved as {sweepFile})", stability);
            TrainingCommandSupport.WriteResults(output, context.Store, Path.GetFileName(sweepFile));
            if (output.Json) TrainingCommandSupport.PrintJson(output, json);
            return 0;
        }));
        return command;
    }

    /// <summary><c>ticketlab compare</c>: each ticket vs the pruning solution it came from, with the dense solution and controls.</summary>
    public static Command Compare(CliEnvironment environment, PresetDefaults defaults)
    {
        var options = new LotteryOptions(defaults);
        var interpolation = new InterpolationBinding();
        var levels = new Option<string>("--levels") { Description = "Levels to compare (1 and above), e.g. 1-10", Required = true };
        var finetune = new Option<string>("--finetune-steps") { Description = "Fine-tuning of the pruning solution on the ticket's mask, at the recipe's final learning rate", DefaultValueFactory = _ => "2ep" };
        var threshold = BarrierThreshold("--basin-threshold", "two networks count as one basin");
        var command = new Command("compare", "Does each ticket retrain to the same region / basin as the pruning solution it came from? Distances, barriers, ensembles, with controls and the noise floor.");
        options.AddTo(command);
        interpolation.AddTo(command);
        command.Options.Add(levels);
        command.Options.Add(finetune);
        command.Options.Add(threshold);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var levelList = TicketLab.Lottery.Branches.BranchRegistry.ParseLevels(result.GetValue(levels) ?? "");
            var comparison = new ComparisonOptions
            {
                Interpolation = interpolation.Read(result),
                PruningSolution = new TicketLab.Lottery.Branches.PruningSolutionHparams { FinetuneSteps = ParseStep(result.GetValue(finetune), "--finetune-steps") },
                BasinThreshold = ReadThreshold(result, threshold),
            };
            comparison.PruningSolution.Validate();
            if (environment.OnlyNames(options.ReadDesc(result).RunName)) return 0;
            var (output, lottery, runOptions, context) = options.Prepare(result, environment);
            var all = new JsonArray();
            foreach (int replicate in options.ReadReplicates(result))
            {
                var rows = TrainingCommandSupport.WithProgress(output, context, c => TicketComparison.Run(lottery, replicate, levelList, comparison, runOptions, c));
                foreach (var row in rows) WriteComparison(output, row, comparison, $"{lottery.RunName} replicate {replicate}");
                all.Add(new JsonObject
                {
                    ["replicate"] = replicate,
                    ["levels"] = new JsonArray(rows.Select(r => (JsonNode)WithVerdicts(r, comparison)).ToArray()),
                });
            }
            TrainingCommandSupport.WriteResults(output, context.Store, lottery.RunName);
            if (output.Json) TrainingCommandSupport.PrintJson(output, new JsonObject { ["lottery_run"] = lottery.RunName, ["replicates"] = all });
            return 0;
        }));
        return command;
    }

    private static JsonObject WithVerdicts(LevelComparison row, ComparisonOptions options)
    {
        var json = row.ToJson();
        foreach (var (name, verdict) in new[] { ("same_region", row.SameRegion()), ("same_basin", row.SameBasin(options.BasinThreshold)) })
            json[name] = new JsonObject { ["answer"] = verdict.Text, ["rule"] = verdict.Rule, ["evidence"] = verdict.Evidence };
        return json;
    }

    private static StepSpec ParseStep(string? text, string flag)
    {
        try { return StepSpec.Parse(text ?? ""); }
        catch (FormatException e) { throw new HparamException(flag, e.Message); }
    }

    private static string P(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
    private static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static void WriteSweep(Output output, IReadOnlyList<SweepRow> rows, string title, double threshold)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns(new[] { "start step", "error barrier mean [min-max]", "rise above chord (mean)",
            "endpoint test acc (mean)", "largest endpoint gap", "loss barrier (mean)", $"stable (barrier < {P(threshold)})", "replicates" }.Select(Markup.Escape).ToArray());
        foreach (var row in rows)
            table.AddRow(row.Step.ToString(), Markup.Escape($"{P(row.MeanErrorBarrier)} [{P(row.MinErrorBarrier)}-{P(row.MaxErrorBarrier)}]"),
                P(row.MeanErrorExcessOverChord), P(row.MeanEndpointAccuracy), P(row.MaxEndpointGap), F(row.MeanLossBarrier),
                row.IsStable(threshold) ? "yes" : "no", row.Results.Count.ToString(CultureInfo.InvariantCulture));
        output.Console.Write(table);
        output.Human.WriteLine($"Error barrier: max test error along the line between the two copies minus the mean of their errors (Frankle et al. 2020); stable when under {P(threshold)}.");
        output.Human.WriteLine("Rise above chord: max of the error above the straight line between the two endpoint errors.");
        foreach (var row in rows)
            foreach (var r in row.Results)
                output.Human.WriteLine($"  start {row.Step}, replicate {r.Replicate}: error barrier {P(r.Curve.ErrorBarrier)}, endpoint errors {P(1 - r.AccuracyA)} and {P(1 - r.AccuracyB)}, "
                    + $"rise above chord {P(r.Curve.ErrorExcessOverChord)}, loss barrier {F(r.Curve.LossBarrier)}");
        // Endpoints of different quality make a "barrier" on a path that never rises: say so.
        foreach (var row in rows)
            foreach (var r in row.Results.Where(r => Math.Abs(r.AccuracyA - r.AccuracyB) > threshold))
                output.Human.WriteLine($"warning: start {row.Step}, replicate {r.Replicate}: the copies' test accuracies differ by {P(Math.Abs(r.AccuracyA - r.AccuracyB))} "
                    + $"({P(r.AccuracyA)} and {P(r.AccuracyB)}), more than the threshold; the barrier {P(r.Curve.ErrorBarrier)} partly measures that gap (rise above chord: {P(r.Curve.ErrorExcessOverChord)}).");
    }

    private static void WriteComparison(Output output, LevelComparison row, ComparisonOptions options, string run)
    {
        var table = new Table().Title(Markup.Escape($"{run}, level {row.Level} ({100 * row.Density:F1}% of prunable weights remain)")).AddColumns(
            "pair", "L2 start", "L2 end", "A moved", "cosine", "angle", "sign agreement", "disagreement", "ensemble acc", "acc A", "acc B",
            "error barrier", "loss barrier", "rise above chord");
        foreach (var p in row.Pairs)
        {
            double scale = p.End.ReferenceNorm;
            table.AddRow(p.Name, F(p.Start.L2Distance / scale), F(p.End.L2Distance / scale), F(p.TravelA / scale), F(p.End.CosineSimilarity),
                F(p.End.AngularDistance), P(p.End.SignAgreement), P(p.PredictionDisagreement), P(p.EnsembleAccuracy), P(p.AccuracyA), P(p.AccuracyB),
                P(p.Curve.ErrorBarrier), F(p.Curve.LossBarrier), P(p.Curve.ErrorExcessOverChord));
        }
        output.Console.Write(table);
        foreach (var network in row.Networks) output.Human.WriteLine($"  {network.Role}: {network.Description} ({network.Folder})");
        output.Human.WriteLine($"  P's test error: {P(row.PruningSolutionErrorBefore)} before fine-tuning, {P(row.PruningSolutionErrorAfter)} after.");
        output.Human.WriteLine("  L2 over the mask's surviving weights, divided by the second network's trained norm; angle: 2·acos(cosine)/π.");
        var region = row.SameRegion();
        var basin = row.SameBasin(options.BasinThreshold);
        output.Human.WriteLine($"  Same region: {region.Text} ({region.Evidence}). Rule: {region.Rule}.");
        output.Human.WriteLine($"  Same basin: {basin.Text} ({basin.Evidence}). Rule: {basin.Rule}.");
    }
}
