using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TicketLab.Data;
using TicketLab.Experiments;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Pruning;
using TicketLab.Store;
using static TorchSharp.torch;

namespace TicketLab.Interop;

/// <summary>What <c>ticketlab export</c> is asked for: a run (folder, name or hash prefix), its replicate and level, and a step.</summary>
public sealed record ExportRequest
{
    public required string Target { get; init; }
    /// <summary>Null: the replicate folder named in <see cref="Target"/>, else 1.</summary>
    public int? Replicate { get; init; }
    /// <summary>The level of a lottery run (required there, refused elsewhere).</summary>
    public int? Level { get; init; }
    /// <summary><c>final</c>, a saved step's label (<c>ep0_it0</c>) or a step (<c>0it</c>, <c>2ep</c>, <c>500it</c>).</summary>
    public string Step { get; init; } = "final";
}

/// <summary>The files written by an export.</summary>
public sealed record ExportedFiles(string Folder, string StateDict, string SafeTensors, string? MaskStateDict, string? MaskSafeTensors, string Manifest,
    string StepLabel, OpenLthModel? Model);

/// <summary>
/// Writes a network of the store (a training run, a lottery level, or any run folder; trained or at
/// a saved step such as the rewind point) with its mask, as OpenLTH keeps them: a PyTorch
/// <c>state_dict</c> file <c>model_epE_itI.pth</c> and <c>mask.pth</c> (OpenLTH's dict of int32 0/1
/// tensors keyed by the prunable weights' names), both keyed by OpenLTH's tensor names
/// (<see cref="OpenLthModel"/>); the same tensors as plain safetensors files; and
/// <c>export.json</c> (source, OpenLTH model name, input normalization, the renaming).
/// <c>torch.load</c> + <c>load_state_dict(strict=True)</c> on OpenLTH's model class takes the file.
/// </summary>
public static partial class OpenLthExport
{
    [GeneratedRegex(@"^ep(?<ep>\d+)_it(?<it>\d+)$")] private static partial Regex LabelPattern();

    // 0.286f as 0.286, not 0.28600001335144043: the float TicketLab normalizes with, in its shortest form.
    private static double Shortest(float value) => double.Parse(value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static ExportedFiles Run(ExperimentStore store, ExportRequest request, string? outFolder)
    {
        var (run, description) = FindRun(store, request);
        var summary = Training.TrainingSummary.Read(run);
        var (modelPath, label) = FindStep(run, summary, request.Step);
        var hparams = run.ReadHparams() ?? throw new InvalidDataException($"{run.HparamsPath} is missing: {run.Path} is not a TicketLab run folder.");
        var desc = TrainingDesc.FromJson(hparams);
        string folder = Path.GetFullPath(outFolder ?? $"{description}-{label}");
        var state = run.LoadTensors(modelPath);
        Mask? mask = null;
        try
        {
            string maskPath = Path.Combine(run.Path, "mask.bin");
            if (File.Exists(maskPath)) mask = Mask.Load(run.Verified(maskPath));
            var source = new JsonObject
            {
                ["run"] = run.Path, ["description"] = description, ["step"] = label, ["weights_file"] = modelPath,
                ["mask_file"] = mask is null ? null : maskPath, ["summary"] = summary?.ToJson(),
            };
            return Write(folder, desc.Model.ModelName, desc.Dataset.DatasetName, label, state, mask, source);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
            mask?.Dispose();
        }
    }

    /// <summary>The run folder asked for, and a short description of it (<c>lottery_1a2b-replicate_1-level_2</c>) that names the default output folder.</summary>
    private static (RunFolder Run, string Description) FindRun(ExperimentStore store, ExportRequest request)
    {
        string target = request.Target;
        if (Directory.Exists(target) && File.Exists(Path.Combine(target, "hparams.json")) && Directory.Exists(Path.Combine(target, "models")))
        {
            if (request.Level is not null) throw new HparamException("--level", $"{target} is a run folder already; --level picks a level of a lottery run.");
            if (request.Replicate is not null) throw new HparamException("--replicate", $"{target} is a run folder already; --replicate picks a replicate of an experiment.");
            var folder = new RunFolder(target);
            // The last folders of the path name it: lottery_1a2b-replicate_1-level_2-main.
            var parts = folder.Path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            return (folder, string.Join("-", parts.TakeLast(4)));
        }
        var experiment = ExperimentRef.Resolve(store, target);
        int replicate = request.Replicate ?? ExperimentStore.ReplicateNumber(Path.GetFullPath(target)) ?? 1;
        string replicateFolder = Path.Combine(experiment.Path, $"replicate_{replicate}");
        if (!Directory.Exists(replicateFolder))
            throw new HparamException("--replicate", $"{experiment.Name} has no replicate {replicate} (found: {string.Join(", ", Directory.EnumerateDirectories(experiment.Path, "replicate_*").Select(Path.GetFileName).Order())}).");
        switch (experiment.Kind.Name)
        {
            case Hyperparameters.TrainingDesc.Prefix:
            case "rewind_parent":
                if (request.Level is not null) throw new HparamException("--level", $"{experiment.Name} is a training run, not a lottery run; it has no levels.");
                return (new RunFolder(replicateFolder), $"{experiment.Name}-replicate_{replicate}");
            case LotteryDesc.Prefix:
                var layout = new LotteryLayout(replicateFolder);
                var levels = layout.Levels().ToArray();
                if (request.Level is not { } level)
                    throw new HparamException("--level", $"{experiment.Name} is a lottery run: give the level to export ({LevelList(levels)}).");
                if (!levels.Contains(level))
                    throw new HparamException("--level", $"{experiment.Name} replicate {replicate} has no level {level} ({LevelList(levels)}).");
                return (layout.Main(level), $"{experiment.Name}-replicate_{replicate}-level_{level}");
            default:
                throw new HparamException("RUN", $"{experiment.Name} is {experiment.Kind.Title.ToLowerInvariant()}, not a training or lottery run; "
                    + "give one of its run folders instead (e.g. .../replicate_1/copy_a).");
        }
    }

    private static string LevelList(int[] levels) => levels.Length == 0 ? "it has no levels yet" : $"levels {string.Join(", ", levels)}";

    private static (string Path, string Label) FindStep(RunFolder run, Training.TrainingSummary? summary, string step)
    {
        string SavedSteps() => string.Join(", ", Directory.Exists(run.ModelsFolder)
            ? Directory.EnumerateFiles(run.ModelsFolder, "model_*.bin").Select(f => Path.GetFileNameWithoutExtension(f)["model_".Length..]).Order(StringComparer.Ordinal)
            : []);
        if (step.Equals("final", StringComparison.OrdinalIgnoreCase))
        {
            if (summary is null || !File.Exists(run.FinalModelPath))
                throw new InvalidDataException($"{run.Path}: the run has not finished, so it has no final weights; give a saved step with --step (saved: {SavedSteps()}).");
            summary.RequireConverged($"{run.Path}:");
            return (run.FinalModelPath, new Step(summary.Iterations, summary.IterationsPerEpoch).Label);
        }
        string label;
        if (LabelPattern().IsMatch(step)) label = step;
        else if (StepSpec.TryParse(step, out var spec))
        {
            if (summary is not null) label = spec.ToStep(summary.IterationsPerEpoch).Label;
            else if (spec.Iterations == 0) label = $"ep{spec.Epochs}_it0";
            else throw new HparamException("--step", $"{run.Path} has not finished, so its epoch length is not recorded: give the step as epE_itI (saved: {SavedSteps()}).");
        }
        else throw new HparamException("--step", $"'{step}' is not a step: give final, a saved step such as ep0_it0, or 0it, 2ep, 500it.");
        string path = Path.Combine(run.ModelsFolder, $"model_{label}.bin");
        if (File.Exists(path)) return (path, label);
        if (summary is not null && label == new Step(summary.Iterations, summary.IterationsPerEpoch).Label && File.Exists(run.FinalModelPath))
            return (run.FinalModelPath, label);
        throw new HparamException("--step", $"{run.Path} has no weights saved at {label} (saved: {SavedSteps()}; save more with --save-steps when training).");
    }

    /// <summary>Writes the export folder from TicketLab-named tensors (<paramref name="state"/>: a state dict; <paramref name="mask"/>: optional).</summary>
    public static ExportedFiles Write(string folder, string modelName, string datasetName, string stepLabel,
        IReadOnlyDictionary<string, Tensor> state, Mask? mask, JsonObject source)
    {
        var model = OpenLthModel.For(modelName);
        string Rename(string key) => model?.ToOpenLth(key) ?? key;
        Directory.CreateDirectory(folder);
        // OpenLTH's file names (foundations/paths.py): model_ep{E}_it{I}.pth and mask.pth.
        string statePath = Path.Combine(folder, $"model_{stepLabel}.pth");
        string safePath = Path.ChangeExtension(statePath, ".safetensors");
        var renamed = state.Select(p => (Name: Rename(p.Key), Tensor: p.Value)).ToArray();
        PyTorchFile.Save(statePath, renamed);
        TensorFile.Save(safePath, renamed);

        string? maskPath = null, maskSafePath = null;
        if (mask is not null)
        {
            using var scope = NewDisposeScope();
            // OpenLTH's Mask.save: {name: tensor.int()} for every prunable weight.
            var tensors = mask.Names.Select(n => (Name: Rename(n), Tensor: mask[n].to_type(ScalarType.Int32))).ToArray();
            maskPath = Path.Combine(folder, "mask.pth");
            maskSafePath = Path.Combine(folder, "mask.safetensors");
            PyTorchFile.Save(maskPath, tensors);
            TensorFile.Save(maskSafePath, tensors);
        }
        else
        {
            // A dense network exported where a ticket was: an old mask beside it would be read as this network's.
            foreach (string stale in new[] { "mask.pth", "mask.safetensors" }) File.Delete(Path.Combine(folder, stale));
        }

        var notes = new JsonArray();
        if (model is null)
            notes.Add((JsonNode)$"OpenLTH has no {modelName} model: the tensor names are TicketLab's own (PyTorch-style module paths).");
        if (model is not null && DatasetCatalog.TryGet(datasetName, out var info) && (model.OpenLthName.StartsWith("mnist_", StringComparison.Ordinal) ? info.Channels * info.Height * info.Width != 784 : info.Channels != 3))
            notes.Add((JsonNode)$"OpenLTH's {model.OpenLthName} expects {(model.OpenLthName.StartsWith("mnist_", StringComparison.Ordinal) ? "784 input features (28x28x1)" : "3 input channels")}; "
                + $"this network was trained on {datasetName}, so build OpenLTH's class with the input size changed.");
        if (model?.OpenLthName.StartsWith("cifar_vgg_", StringComparison.Ordinal) == true)
            notes.Add((JsonNode)"OpenLTH's VGG ends with AvgPool2d(2) where TicketLab pools globally: the same on 32x32 inputs only.");
        if (mask is null && renamed.Length > 0)
            notes.Add((JsonNode)"No mask: the run folder has no mask.bin (a dense run, or a branch whose mask is its level's).");
        var manifest = new JsonObject
        {
            ["format"] = "TicketLab export: model_*.pth is a PyTorch state_dict (torch.load), model_*.safetensors the same tensors; "
                + "mask.pth / mask.safetensors: OpenLTH's mask (int32 0/1 per prunable weight). Keys are OpenLTH's tensor names.",
            ["ticketlab_model_name"] = modelName,
            ["openlth_model_name"] = model?.OpenLthName,
            ["dataset_name"] = datasetName,
            ["input"] = DatasetCatalog.TryGet(datasetName, out var input) ? new JsonObject
            {
                ["channels"] = input.Channels, ["height"] = input.Height, ["width"] = input.Width, ["num_classes"] = input.NumClasses,
                ["normalize_mean"] = new JsonArray(input.Mean.Select(m => (JsonNode)Shortest(m)).ToArray()),
                ["normalize_std"] = new JsonArray(input.Std.Select(s => (JsonNode)Shortest(s)).ToArray()),
                ["note"] = "pixels scaled to [0, 1], then (x - mean) / std per channel, as TicketLab trains",
            } : null,
            ["step"] = stepLabel,
            ["files"] = new JsonObject
            {
                ["state_dict"] = Path.GetFileName(statePath), ["safetensors"] = Path.GetFileName(safePath),
                ["mask"] = maskPath is null ? null : Path.GetFileName(maskPath), ["mask_safetensors"] = maskSafePath is null ? null : Path.GetFileName(maskSafePath),
            },
            ["renamed"] = new JsonObject(state.Keys.Where(k => Rename(k) != k).Select(k => KeyValuePair.Create(k, (JsonNode?)Rename(k)))),
            ["source"] = source,
            ["notes"] = notes,
        };
        string manifestPath = Path.Combine(folder, "export.json");
        AtomicFile.WriteJson(manifestPath, manifest);
        return new ExportedFiles(folder, statePath, safePath, maskPath, maskSafePath, manifestPath, stepLabel, model);
    }
}
