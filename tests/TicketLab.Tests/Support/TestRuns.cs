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
