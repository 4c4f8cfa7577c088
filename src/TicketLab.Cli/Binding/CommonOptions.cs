using System.CommandLine;
using TicketLab.Foundations;

namespace TicketLab.Cli.Binding;

/// <summary>Options shared by every command that trains: where things live, the device, output style.</summary>
public sealed class CommonOptions
{
    public Option<string?> Root { get; } = new("--root") { Description = "Experiment store folder [default: $TICKETLAB_ROOT, else ~/.local/share/ticketlab/experiments]" };
    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Folder with the dataset files [default: $TICKETLAB_DATA, then ~/.local/share/ticketlab/datasets, then /usr/share/datasets for fashion_mnist]" };
    public Option<bool> Download { get; } = new("--download") { Description = "Download a missing dataset from its official location (checksums verified)" };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads for tensor operations [default: all cores]" };
    public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON on stdout (human output goes to stderr)" };
    public Option<bool> Quiet { get; } = new("--quiet") { Description = "Plain log lines instead of a progress bar" };
    public Option<string?> TensorBoard { get; } = new("--tensorboard") { Description = "Also write TensorBoard event files (loss, accuracy, learning rate, sparsity) under this folder, one sub-folder per run" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Root, DataDir, Download, Device, Threads, Json, Quiet, TensorBoard })
            command.Options.Add(option);
        Device.AcceptOnlyFromAmong("cpu", "cuda");
    }
}

/// <summary>Options of a training run that do not change its result.</summary>
public sealed class RunOptionsBinding
{
    public Option<int> Replicate { get; } = new("--replicate") { Description = "Replicate number; also the default model-init and data-order seed", DefaultValueFactory = _ => 1 };
    public Option<string?> EvalSteps { get; } = new("--eval-steps") { Description = "Extra steps at which to evaluate on the test set, e.g. 100it,500it" };
    public Option<bool> EvalTrain { get; } = new("--eval-train") { Description = "Also evaluate on the training set at each evaluation" };
    public Option<bool> NoEpochEval { get; } = new("--no-epoch-eval") { Description = "Do not evaluate at every epoch (only at --eval-steps and the end)" };
    public Option<string?> SaveSteps { get; } = new("--save-steps") { Description = "Steps at which to save the weights (for rewinding), e.g. 500it,2ep" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Replicate, EvalSteps, EvalTrain, NoEpochEval, SaveSteps })
            command.Options.Add(option);
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
