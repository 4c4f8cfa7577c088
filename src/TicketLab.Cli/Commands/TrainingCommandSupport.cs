using System.CommandLine;
using System.Text.Json;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Reporting;
using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using Spectre.Console;

namespace TicketLab.Cli.Commands;

/// <summary>The values flags default to: a preset's training recipe and pruning, or the plain defaults.</summary>
internal sealed record PresetDefaults(TrainingDesc Training, PruningHparams Pruning);

/// <summary>What every training-style command shares: preset, hyperparameter flags, device, store, output.</summary>
internal sealed class TrainingCommandSupport
{
    /// <param name="replicateFlag">Whether the command takes <c>--replicate</c> (a rewind sweep counts its replicates itself).</param>
    public TrainingCommandSupport(TrainingDesc defaults, bool replicateFlag = true)
    {
        Defaults = defaults;
        this.replicateFlag = replicateFlag;
        Dataset = new HparamOptions<DatasetHparams>(defaults.Dataset);
        Model = new HparamOptions<ModelHparams>(defaults.Model);
        Training = new HparamOptions<TrainingHparams>(defaults.Training);
    }

    public TrainingDesc Defaults { get; }
    public Option<string?> Preset { get; } = new("--preset")
    {
        Description = "Start from a named recipe (training and pruning): " + string.Join(", ", Presets.All.Select(p => p.Name)) + ". Flags override its values.",
    };
    public CommonOptions Common { get; } = new();
    public RunOptionsBinding Run { get; } = new();
    public HparamOptions<DatasetHparams> Dataset { get; }
    public HparamOptions<ModelHparams> Model { get; }
    public HparamOptions<TrainingHparams> Training { get; }

    private readonly bool replicateFlag;

    public void AddTo(Command command)
    {
        command.Options.Add(Preset);
        Dataset.AddTo(command);
        Model.AddTo(command);
        Training.AddTo(command);
        Run.AddTo(command, replicateFlag);
        Common.AddTo(command);
    }

    /// <summary>The preset named in raw arguments, found before parsing so that help can show its values.</summary>
    public static PresetDefaults DefaultsFor(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--preset" && i + 1 < args.Count) return SafePreset(args[i + 1]);
            if (args[i].StartsWith("--preset=", StringComparison.Ordinal)) return SafePreset(args[i]["--preset=".Length..]);
        }
        return new PresetDefaults(new TrainingDesc(), new PruningHparams());
    }

    // An unknown preset is reported when the command runs; until then plain defaults serve for help.
    private static PresetDefaults SafePreset(string name)
    {
        try { return new PresetDefaults(Presets.Get(name), Presets.PruningOf(name)); }
        catch (HparamException) { return new PresetDefaults(new TrainingDesc(), new PruningHparams()); }
    }

    public TrainingDesc ReadDesc(ParseResult result)
    {
        if (result.GetValue(Preset) is { } name) Presets.Get(name); // throws a clear error for unknown names
        var desc = new TrainingDesc(Dataset.Read(result), Model.Read(result), Training.Read(result));
        desc.Validate();
        if (!DatasetCatalog.TryGet(desc.Dataset.DatasetName, out _))
            throw new HparamException("--dataset-name", $"unknown dataset '{desc.Dataset.DatasetName}'. Known: {string.Join(", ", DatasetCatalog.Names)}.");
        Models.ModelRegistry.ValidateName(desc.Model.ModelName);
        return desc;
    }

    public RunOptions ReadRunOptions(ParseResult result) => Run.Run.Read(result).ToRunOptions();

    public Output ReadOutput(ParseResult result, CliEnvironment environment) =>
        new(environment.Stdout, environment.Stderr, result.GetValue(Common.Json), result.GetValue(Common.Quiet), environment.Interactive);

    public RunContext CreateContext(ParseResult result, CliEnvironment environment, Output output)
    {
        int threads = result.GetValue(Common.Threads) ?? Environment.ProcessorCount;
        // libtorch aborts the process on a thread count below 1, so it never gets one.
        if (threads < 1) throw new HparamException("--threads", $"must be at least 1, got {threads}.");
        torch.set_num_threads(threads);
        var device = DeviceSupport.Resolve(result.GetValue(Common.Device) ?? "cpu", tf32: !result.GetValue(Common.NoTf32), output.Human);
        var store = ExperimentStore.Resolve(result.GetValue(Common.Root));
        store.EnsureWritable();
        string? tensorboard = result.GetValue(Common.TensorBoard);
        return new RunContext
        {
            Store = store,
            Device = device,
            Data = new DataSource(result.GetValue(Common.DataDir), result.GetValue(Common.Download)),
            Cancellation = environment.Cancellation,
            WaitForLocks = environment.WaitForLocks,
            Log = output.Human,
            Observers = tensorboard is null
                ? (_, _, _) => []
                : (folder, metrics, _) => [TensorBoardObserver.Create(tensorboard, store, folder, metrics)],
        };
    }

    /// <summary>Runs <paramref name="work"/> with a progress bar (or epoch log lines) attached to every training run it starts.</summary>
    public static T WithProgress<T>(Output output, RunContext context, Func<RunContext, T> work)
    {
        if (!output.UseProgressBar)
        {
            var logged = context with
            {
                Observers = (folder, metrics, timing) => [.. context.Observers(folder, metrics, timing), new EpochLogObserver(output.Human, metrics, timing, Label(context, folder))],
            };
            return work(logged);
        }
        T value = default!;
        output.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var withBar = context with
                {
                    Observers = (folder, metrics, timing) => [.. context.Observers(folder, metrics, timing), new ProgressBarObserver(progress.AddTask(Label(context, folder)), metrics, Label(context, folder))],
                };
                value = work(withBar);
            });
        return value;
    }

    private static string Label(RunContext context, RunFolder folder) =>
        Path.GetRelativePath(context.Store.Root, folder.Path);

    public static void PrintJson(Output output, System.Text.Json.Nodes.JsonNode node) =>
        output.Machine.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>
    /// Writes the experiment's results.csv (every result it holds, one number a row) and names it. A
    /// result that cannot be read (a damaged run of another replicate) only warns, naming it: this
    /// command's own runs are stored, and <c>ticketlab report</c> stops on the damaged one.
    /// </summary>
    public static void WriteResults(Output output, ExperimentStore store, string experimentName)
    {
        string path = Path.Combine(store.Root, experimentName);
        if (TicketLab.Experiments.ExperimentRegistry.KindOf(path) is not { } kind) return;
        try
        {
            string file = TicketLab.Experiments.ExperimentResults.Write(new TicketLab.Experiments.ExperimentRef(kind, path, experimentName.Replace(".json", "")));
            output.Human.WriteLine($"Results (one number a row): {file}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException or InvalidOperationException or RunIntegrityException)
        {
            output.Error.WriteLine($"warning: results.csv of {experimentName} not written ({e.Message.Split('\n')[0].TrimEnd('.')}); `ticketlab report` writes it beside the report.");
        }
    }
}

internal static class DeviceSupport
{
    public static torch.Device Resolve(string name, bool tf32, TextWriter log)
    {
        if (name == "cpu") return torch.CPU;
        torch.Device device;
        try
        {
            device = TicketLab.Devices.CudaDevice.Open(tf32);
        }
        catch (TicketLab.Devices.CudaUnavailableException e)
        {
            throw new HparamException("--device", $"cuda was asked for, but {e.Message}. "
                + $"Give {TicketLab.Devices.LibTorchLocator.Flag} DIR with a CUDA build of libtorch (a PyTorch torch/lib folder), or use --device cpu.");
        }
        log.WriteLine($"Device: cuda ({torch.cuda.device_count()} device(s)), TF32 {(tf32 ? "on" : "off (--no-tf32)")}.");
        return device;
    }
}
