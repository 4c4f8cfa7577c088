using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Tests.Support;

/// <summary>Cancels a run as it reaches an iteration, as Ctrl-C would.</summary>
public sealed class CancelAt(long iteration, CancellationTokenSource source) : ITrainingCallback
{
    public void AtStep(TrainingState state)
    {
        if (state.Step.Iteration == iteration) source.Cancel();
    }
}

/// <summary>Tiny training recipes on <see cref="LearnableData"/>, fast enough for unit tests.</summary>
public static class TestRuns
{
    public static TrainingDesc TinyLenet(string steps = "2ep", int batch = 32, double momentum = 0.9) => new(
        new DatasetHparams { DatasetName = "mnist", BatchSize = batch },
        new ModelHparams { ModelName = "lenet_32_16" },
        new TrainingHparams { Lr = 0.05, Momentum = momentum, WeightDecay = 1e-4, TrainingSteps = TicketLab.Foundations.StepSpec.Parse(steps) });

    /// <summary>
    /// <see cref="TinyLenet"/> as command-line flags on <paramref name="data"/> and <paramref name="store"/>, so CLI and
    /// library runs share folders; <paramref name="overrides"/> are flag-value pairs that replace or add to it.
    /// </summary>
    public static string[] TinyLenetFlags(string steps, string data, string store, params string[] overrides)
    {
        var flags = new List<(string Flag, string Value)>
        {
            ("--dataset-name", "mnist"), ("--model-name", "lenet_32_16"), ("--batch-size", "32"), ("--lr", "0.05"), ("--momentum", "0.9"),
            ("--weight-decay", "1e-4"), ("--training-steps", steps), ("--data-dir", data), ("--root", store), ("--threads", "1"),
        };
        for (int i = 0; i + 1 < overrides.Length; i += 2)
        {
            flags.RemoveAll(f => f.Flag == overrides[i]);
            flags.Add((overrides[i], overrides[i + 1]));
        }
        return [.. flags.SelectMany(f => new[] { f.Flag, f.Value }), "--quiet"];
    }

    public static RunContext Context(string storeRoot, string dataRoot, CancellationToken cancellation = default,
        Func<RunFolder, MetricsLog, TimingCallback, IEnumerable<ITrainingCallback>>? observers = null) => new()
    {
        Store = new ExperimentStore(storeRoot),
        Data = new DataSource(dataRoot),
        Cancellation = cancellation,
        Observers = observers ?? ((_, _, _) => []),
    };
}

/// <summary>Runs the <c>ticketlab</c> command line in this process, capturing its output.</summary>
public static class TestCli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = TicketLab.Cli.CliApp.Run(args, TicketLab.Cli.CliEnvironment.ForTests(stdout, stderr));
        return (code, stdout.ToString(), stderr.ToString());
    }
}
