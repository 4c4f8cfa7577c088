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

/// <summary>Flags of the interpolation between two networks.</summary>
internal sealed class InterpolationBinding
{
    public Option<int> Points { get; } = new("--points") { Description = "Interpolation coefficients, evenly spaced in [0,1], endpoints included", DefaultValueFactory = _ => 30 };
    public Option<int?> TestExamples { get; } = new("--test-examples") { Description = "Evaluate each point on the first N test examples only [default: the whole test set]" };
    public Option<int> TrainExamples { get; } = new("--train-examples") { Description = "Also measure error and loss on this many training examples at each point", DefaultValueFactory = _ => 0 };
    public Option<int> BnRecalibrate { get; } = new("--bn-recalibrate") { Description = "Re-estimate batch-norm statistics on N training batches at each point (default: interpolate them)", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Options.Add(Points);
        command.Options.Add(TrainExamples);
        command.Options.Add(TestExamples);
        command.Options.Add(BnRecalibrate);
    }

    public InterpolationOptions Read(ParseResult result)
    {
        int points = result.GetValue(Points);
        if (points < 2) throw new HparamException("--points", $"must be at least 2, got {points}.");
        int train = result.GetValue(TrainExamples);
        if (train < 0) throw new HparamException("--train-examples", $"must not be negative, got {train}.");
        int bn = result.GetValue(BnRecalibrate);
        if (bn < 0) throw new HparamException("--bn-recalibrate", $"must not be negative, got {bn}.");
        int? test = result.GetValue(TestExamples);
        if (test is < 1) throw new HparamException("--test-examples", $"must be at least 1, got {test}.");
        return new InterpolationOptions { Points = points, TrainExamples = train, TestExamples = test, BnRecalibrationBatches = bn };
    }
}

internal static class AnalysisCommands
{
    /// <summary><c>ticketlab instability</c>: train two copies from one state with different data orders and interpolate.</summary>
    public static Command Instability(CliEnvironment environment, TrainingDesc defaults)
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
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var interpolationOptions = interpolation.Read(result);
            var (output, lottery, runOptions, context) = options.Prepare(result, environment);
            var start = result.GetValue(level) is { } l
                ? InstabilityStart.FromLottery(lottery, l)
                : InstabilityStart.FromTraining(lottery.Training, ParseStep(result.GetValue(startStep), "--start-step"));
            output.Human.WriteLine($"Instability analysis {start.RunName} from {start.Describe}.");
            var results = options.ReadReplicates(result)
                .Select(r => TrainingCommandSupport.WithProgress(output, context, c => InstabilityAnalysis.Run(start, r, interpolationOptions, runOptions, c)))
                .ToArray();
            var row = new SweepRow(start.Step, results);
            WriteSweep(output, [row], $"Instability from {start.Describe}");
            if (output.Json) TrainingCommandSupport.PrintJson(output, row.ToJson());
            return 0;
        }));
        return command;
    }

    /// <summary><c>ticketlab rewind-sweep</c>: instability analysis from several steps of one recipe.</summary>
    public static Command RewindSweep(CliEnvironment environment, TrainingDesc defaults)
    {
        var support = new TrainingCommandSupport(defaults);
        var interpolation = new InterpolationBinding();
        var steps = new Option<string>("--steps") { Description = "Start steps, e.g. 0it,100it,500it,1ep,2ep,5ep,10ep", DefaultValueFactory = _ => "0it,100it,500it,1ep,2ep,5ep,10ep" };
        var replicates = new Option<int>("--replicates") { Description = "Seed pairs (and initializations) per step", DefaultValueFactory = _ => 1 };
        var command = new Command("rewind-sweep", "Error barrier vs the step the two copies start from: when training becomes stable to SGD noise.");
        support.AddTo(command);
        interpolation.AddTo(command);
        command.Options.Add(steps);
        command.Options.Add(replicates);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var output = support.ReadOutput(result, environment);
            var desc = support.ReadDesc(result);
            var stepList = RunOptionsBinding.ParseSteps(result.GetValue(steps), "--steps");
            int count = result.GetValue(replicates);
            if (count < 1) throw new HparamException("--replicates", $"must be at least 1, got {count}.");
            var interpolationOptions = interpolation.Read(result);
            var runOptions = support.ReadRunOptions(result);
            var context = support.CreateContext(result, environment, output);
            output.Human.WriteLine($"Rewind sweep of {desc.RunName} over {string.Join(", ", stepList)} with {count} replicate(s).");
            var rows = TrainingCommandSupport.WithProgress(output, context,
                c => TicketLab.Analysis.RewindSweep.Run(desc, stepList, Enumerable.Range(1, count).ToArray(), interpolationOptions, runOptions, c));
            var json = new JsonObject { ["training_run"] = desc.RunName, ["training"] = desc.ToJson(), ["rows"] = new JsonArray(rows.Select(r => (JsonNode)r.ToJson()).ToArray()) };
            string sweepFile = Path.Combine(context.Store.Root, $"rewind_sweep_{CanonicalJson.Sha256Hex(desc.RunName + string.Join(",", stepList) + count)[..12]}.json");
            AtomicFile.WriteText(sweepFile, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            WriteSweep(output, rows, $"Rewind sweep of {desc.RunName} (saved as {sweepFile})");
            if (output.Json) TrainingCommandSupport.PrintJson(output, json);
            return 0;
        }));
        return command;
    }

    /// <summary><c>ticketlab compare</c>: tickets vs the dense network, with controls, per level.</summary>
    public static Command Compare(CliEnvironment environment, TrainingDesc defaults)
    {
        var options = new LotteryOptions(defaults);
        var interpolation = new InterpolationBinding();
        var levels = new Option<string>("--levels") { Description = "Levels to compare with the dense network, e.g. 1-10", Required = true };
        var unmasked = new Option<bool>("--unmasked-dense") { Description = "Also interpolate between the ticket and the unmasked dense network" };
        var command = new Command("compare", "Does each ticket retrain to the same region / basin as its dense network? Distances, cosine, barriers, with controls.");
        options.AddTo(command);
        interpolation.AddTo(command);
        command.Options.Add(levels);
        command.Options.Add(unmasked);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var levelList = TicketLab.Lottery.Branches.BranchRegistry.ParseLevels(result.GetValue(levels) ?? "");
            var comparison = new ComparisonOptions { Interpolation = interpolation.Read(result), UnmaskedDense = result.GetValue(unmasked) };
            var (output, lottery, runOptions, context) = options.Prepare(result, environment);
            var all = new JsonArray();
            foreach (int replicate in options.ReadReplicates(result))
            {
                var rows = TrainingCommandSupport.WithProgress(output, context, c => TicketDenseComparison.Run(lottery, replicate, levelList, comparison, runOptions, c));
                WriteComparison(output, rows, comparison, $"{lottery.RunName} replicate {replicate}: ticket vs dense, on the ticket's mask");
                all.Add(new JsonObject { ["replicate"] = replicate, ["levels"] = new JsonArray(rows.Select(r => (JsonNode)r.ToJson()).ToArray()) });
            }
            if (output.Json) TrainingCommandSupport.PrintJson(output, new JsonObject { ["lottery_run"] = lottery.RunName, ["replicates"] = all });
            return 0;
        }));
        return command;
    }

    private static StepSpec ParseStep(string? text, string flag)
    {
        try { return StepSpec.Parse(text ?? ""); }
        catch (FormatException e) { throw new HparamException(flag, e.Message); }
    }

    private static string P(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
    private static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static void WriteSweep(Output output, IReadOnlyList<SweepRow> rows, string title)
    {
        var table = new Table().Title(Markup.Escape(title))
            .AddColumns("start step", "error barrier (mean)", "min", "max", "loss barrier (mean)", "endpoint test acc (mean)", "replicates");
        foreach (var row in rows)
            table.AddRow(row.Step.ToString(), P(row.MeanErrorBarrier), P(row.MinErrorBarrier), P(row.MaxErrorBarrier),
                F(row.MeanLossBarrier), P(row.MeanEndpointAccuracy), row.Results.Count.ToString(CultureInfo.InvariantCulture));
        output.Console.Write(table);
    }

    private static void WriteComparison(Output output, IReadOnlyList<LevelComparison> rows, ComparisonOptions options, string title)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns(
            "level", "% remaining", "dist T-D", "dist R-D", "dist T2-D", "dist T-T2", "cos T-D", "cos R-D", "signs T-D",
            "disagree T-D", "barrier T-D", "above chord T-D", "barrier T-unmasked D", "barrier R-D", "barrier T-T2", "barrier L-L+1", "same region", "same basin");
        foreach (var row in rows)
        {
            string D(string pair, Func<PairComparison, double> value, Func<double, string> format) => row.Pair(pair) is { } p ? format(value(p)) : "-";
            table.AddRow(row.Level.ToString(CultureInfo.InvariantCulture), (100 * row.Density).ToString("F1", CultureInfo.InvariantCulture),
                D(TicketDenseComparison.TicketVsDense, p => p.Distances.NormalizedL2Distance, F),
                D(TicketDenseComparison.ReinitVsDense, p => p.Distances.NormalizedL2Distance, F),
                D(TicketDenseComparison.RetrainVsDense, p => p.Distances.NormalizedL2Distance, F),
                D(TicketDenseComparison.TicketVsRetrain, p => p.Distances.NormalizedL2Distance, F),
                D(TicketDenseComparison.TicketVsDense, p => p.Distances.CosineSimilarity, F),
                D(TicketDenseComparison.ReinitVsDense, p => p.Distances.CosineSimilarity, F),
                D(TicketDenseComparison.TicketVsDense, p => p.Distances.SignAgreement, P),
                D(TicketDenseComparison.TicketVsDense, p => p.PredictionDisagreement, P),
                D(TicketDenseComparison.TicketVsDense, p => p.Curve.ErrorBarrier, P),
                D(TicketDenseComparison.TicketVsDense, p => p.Curve.ErrorExcessOverChord, P),
                D(TicketDenseComparison.TicketVsUnmaskedDense, p => p.Curve.ErrorBarrier, P),
                D(TicketDenseComparison.ReinitVsDense, p => p.Curve.ErrorBarrier, P),
                D(TicketDenseComparison.TicketVsRetrain, p => p.Curve.ErrorBarrier, P),
                D(TicketDenseComparison.TicketVsNextLevel, p => p.Curve.ErrorBarrier, P),
                row.SameRegion is { } region ? (region ? "yes" : "no") : "-",
                row.SameBasin(options.BasinThreshold) is { } basin ? (basin ? "yes" : "no") : "-");
        }
        output.Console.Write(table);
        output.Human.WriteLine("T: ticket, D: dense (level 0) on the ticket's mask, R: random_reinit of the mask, T2: ticket retrained with another data order,");
        output.Human.WriteLine("L-L+1: this level's ticket vs the next level's on the next mask. dist: L2 distance / dense norm. Barrier: max error minus mean endpoint error;");
        output.Human.WriteLine($"above chord: max rise of the error above the line between the endpoint errors. Same basin: above chord T-D < {P(options.BasinThreshold)}.");
    }
}
