using System.CommandLine;
using TicketLab.Foundations;

namespace TicketLab.Cli.Binding;

/// <summary>Options shared by every command that trains: where things live, the device, output style.</summary>
public sealed class CommonOptions
{
    public Option<string?> Root { get; } = StoreRoot();

    /// <summary>The store's <c>--root</c>, as every command that reads or writes the store takes it; <paramref name="note"/> adds to its help.</summary>
    public static Option<string?> StoreRoot(string note = "") => new("--root") { Description = "Experiment store folder [default: $TICKETLAB_ROOT, else ~/.local/share/ticketlab/experiments]" + note };
    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Folder with the dataset files [default: $TICKETLAB_DATA, then ~/.local/share/ticketlab/datasets, then /usr/share/datasets for fashion_mnist]" };
    public Option<bool> Download { get; } = new("--download") { Description = "Download a missing dataset from its official location (checksums verified)" };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda (cuda uses the libtorch of an installed PyTorch: see --libtorch)", DefaultValueFactory = _ => "cpu" };
    public Option<string?> LibTorch { get; } = new(TicketLab.Devices.LibTorchLocator.Flag) { Description = "With --device cuda: a libtorch with CUDA (a PyTorch torch/lib folder or a libtorch download) [default: $TICKETLAB_LIBTORCH, else the torch package of python3]" };
    public Option<bool> NoTf32 { get; } = new("--no-tf32") { Description = "With --device cuda: full-precision float32 matrix products (TF32 is on by default, as in PyTorch's recommended setting for Ampere and later GPUs)" };
    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads for tensor operations [default: all cores]", CustomParser = Counts.Parse("--threads") };
    public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON on stdout (human output goes to stderr)" };
    public Option<bool> Quiet { get; } = new("--quiet") { Description = "Plain log lines instead of a progress bar" };
    public Option<string?> TensorBoard { get; } = new("--tensorboard") { Description = "Also write TensorBoard event files under this folder, one sub-folder per run: every row of the run's metrics.csv as a scalar at its step (test_accuracy as test/accuracy, learning_rate as train/learning_rate)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Root, DataDir, Download, Device, LibTorch, NoTf32, Threads, Json, Quiet, TensorBoard })
            command.Options.Add(option);
        Device.AcceptOnlyFromAmong("cpu", "cuda");
    }
}

/// <summary>Options of a training run that do not change its result: the replicate, and the <see cref="Training.RunHparams"/> flags.</summary>
public sealed class RunOptionsBinding
{
    public Option<int> Replicate { get; } = new("--replicate")
    {
        Description = "Replicate number (1 or more); also the default model-init and data-order seed", DefaultValueFactory = _ => 1,
        CustomParser = result => Counts.Parse("--replicate")(result) ?? 0,
    };
    public HparamOptions<Training.RunHparams> Run { get; } = new(new Training.RunHparams());

    public void AddTo(Command command, bool replicate = true)
    {
        if (replicate) command.Options.Add(Replicate);
        Run.AddTo(command);
    }

    public static StepSpec[] ParseSteps(string? text, string flag)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(StepSpec.Parse).ToArray();
        }
        catch (FormatException e)
        {
            throw new Hyperparameters.HparamException(flag, e.Message);
        }
    }
}

/// <summary>
/// Parses counts (threads, replicates): whole numbers of at least 1, each fault one line naming the
/// flag, never a .NET type name (an out-of-range number) or a silently empty result (replicate 0).
/// </summary>
internal static class Counts
{
    public static Func<System.CommandLine.Parsing.ArgumentResult, int?> Parse(string flag) => result =>
        One(string.Join(" ", result.Tokens.Select(t => t.Value)), flag, result.AddError);

    /// <summary>One count, or null after reporting what is wrong with it.</summary>
    public static int? One(string text, string flag, Action<string> error, string hint = "")
    {
        if (!long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long value))
            error($"{flag}: '{text}' is not a whole number{hint}.");
        else if (value < 1)
            error($"{flag}: must be at least 1, got {value}.");
        else if (value > int.MaxValue)
            error($"{flag}: {value} is too large (at most {int.MaxValue}).");
        else
            return (int)value;
        return null;
    }
}

/// <summary>
/// The replicates a command runs: <c>--replicates N</c> is 1..N, <c>--replicates 3,5,8</c> exactly
/// those (how a study runs the same level of several replicates in one process).
/// </summary>
internal static class ReplicateSets
{
    public const string Flag = "--replicates";
    public const string Help = "Run replicates 1..N, or those listed (e.g. 3,5,8), instead of the single --replicate";

    public static Option<int[]?> Option() => new(Flag) { Description = Help, CustomParser = Parse };

    private static int[]? Parse(System.CommandLine.Parsing.ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return null; // not given: the single --replicate
        string text = string.Join(" ", result.Tokens.Select(t => t.Value));
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (Counts.One(part, Flag, result.AddError, " (give N for 1..N, or a list such as 3,5,8)") is not { } value) return null;
            if (values.Contains(value))
            {
                result.AddError($"{Flag}: replicate {value} is listed twice.");
                return null;
            }
            values.Add(value);
        }
        return parts.Length == 1 ? Enumerable.Range(1, values[0]).ToArray() : [.. values];
    }
}
