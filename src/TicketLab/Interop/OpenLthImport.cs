using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Interop;

/// <summary>One replicate brought in: the levels imported, or that it was imported before.</summary>
public sealed record ImportedReplicate(int Replicate, IReadOnlyList<LevelResult> Levels, bool AlreadyImported, string Folder);

/// <summary>The outcome of an import: the TicketLab lottery run it became and the flags that name it.</summary>
public sealed record ImportResult(LotteryDesc Desc, string ExperimentFolder, IReadOnlyList<ImportedReplicate> Replicates, IReadOnlyList<string> Notes)
{
    /// <summary>The flags that identify this lottery run to <c>ticketlab lottery</c>, <c>instability --level</c>, <c>compare</c>, <c>branch</c>.</summary>
    public IReadOnlyList<string> Flags => HparamFlags.Of(Desc.Training.Dataset, Desc.Training.Model, Desc.Training.Training, Desc.Pruning, Desc.Lottery);
}

/// <summary>
/// Brings an OpenLTH lottery run (<c>&lt;root&gt;/lottery_&lt;md5&gt;/replicate_N/level_L/main/</c> with
/// <c>hparams.log</c>, <c>model_epE_itI.pth</c>, <c>mask.pth</c> and <c>logger</c>; <c>level_pretrain</c> when it
/// rewinds to a later step) into the store as the TicketLab lottery run of the same hyperparameters
/// (<see cref="OpenLthHparamsMapping"/>), laid out as <see cref="LotteryRunner"/> writes one: per level
/// <c>hparams.json</c>, <c>models/</c>, <c>mask.bin</c>, <c>metrics.csv</c> (OpenLTH's logger) and
/// <c>summary.json</c>; <c>lottery.json</c> and <c>import.json</c> (source files and their SHA-256,
/// OpenLTH's hparams.log, notes) per replicate. Every tensor is renamed, checked against the model's
/// names and shapes, and pruned weights are set to zero (OpenLTH saves a level's final weights one
/// optimizer step after its last masking, so they hold small values where the mask is 0).
/// A replicate is written to a temporary folder and moved into place, so a failed import leaves nothing.
/// </summary>
public static partial class OpenLthImport
{
    [GeneratedRegex(@"^model_ep(?<ep>\d+)_it(?<it>\d+)\.pth$")] private static partial Regex ModelFile();

    public static ImportResult Run(string source, RunContext context)
    {
        string folder = Path.GetFullPath(source);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder.");
        var replicates = ReplicateFolders(folder);
        var hparamsFile = replicates.Select(r => Path.Combine(r.Folder, "level_0", "main", "hparams.log")).FirstOrDefault(File.Exists)
            ?? replicates.SelectMany(r => Directory.EnumerateFiles(r.Folder, "hparams.log", SearchOption.AllDirectories)).FirstOrDefault()
            ?? throw new InvalidDataException($"{folder}: no hparams.log (OpenLTH writes it to replicate_N/level_0/main/); is this an OpenLTH lottery run?");
        string hparamsText = File.ReadAllText(hparamsFile);
        var mapped = OpenLthHparamsMapping.ToTicketLab(OpenLthHparamsLog.Parse(hparamsText, hparamsFile));
        var desc = mapped.Desc;
        var notes = new List<string>(mapped.Notes);

        int perEpoch = LotteryRunner.IterationsPerEpoch(desc.Training, context);
        var imported = new List<ImportedReplicate>();
        foreach (var (number, replicateFolder) in replicates)
            imported.Add(ImportReplicate(folder, number, replicateFolder, hparamsText, mapped, perEpoch, context, notes));
        return new ImportResult(desc, context.Store.ExperimentFolder(desc.RunName), imported, notes.Distinct().ToArray());
    }

    private static (int Number, string Folder)[] ReplicateFolders(string folder)
    {
        if (ExperimentStore.ReplicateNumber(folder) is { } single) return [(single, folder)];
        var found = ExperimentStore.Replicates(folder).ToArray();
        if (found.Length == 0)
            throw new InvalidDataException($"{folder}: not an OpenLTH lottery run (expected lottery_<hash>/replicate_N/level_L/main/, or one replicate_N folder).");
        return found;
    }

    private static ImportedReplicate ImportReplicate(string source, int replicate, string replicateFolder, string hparamsText, OpenLthDesc mapped,
        int perEpoch, RunContext context, List<string> notes)
    {
        var desc = mapped.Desc;
        string target = context.Store.ReplicateFolder(desc.RunName, replicate);
        if (Directory.Exists(target))
        {
            if (JsonRead.ObjectFile(Path.Combine(target, "import.json")) is { } earlier && (string?)earlier["source"] == replicateFolder)
            {
                var existing = new LotteryLayout(target);
                var levels = existing.Levels()
                    .Select(l => (Level: l, Run: existing.Main(l)))
                    .Where(l => TrainingSummary.Read(l.Run) is not null)
                    .Select(l => new LevelResult(l.Level, (double?)l.Run.ReadHparams()?["density"] ?? double.NaN, TrainingSummary.Read(l.Run)!))
                    .ToArray();
                return new ImportedReplicate(replicate, levels, AlreadyImported: true, target);
            }
            throw new StoreException($"{target} already exists: the store holds a lottery run with these hyperparameters (replicate {replicate}) that was not imported from {replicateFolder}. "
                + "Import into another store with --root, or delete that folder first.");
        }

        var openLevels = Directory.EnumerateDirectories(replicateFolder, "level_*")
            .Select(d => int.TryParse(Path.GetFileName(d)["level_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int l) ? l : -1)
            .Where(l => l >= 0).Order().ToArray();
        if (openLevels.Length == 0 || openLevels[0] != 0)
            throw new InvalidDataException($"{replicateFolder}: has no level_0/main; an OpenLTH lottery replicate starts with level 0.");

        var start = desc.Lottery.RewindStep.ToStep(perEpoch);
        var end = desc.Training.Training.TrainingSteps.ToStep(perEpoch);
        string temporary = Path.Combine(context.Store.ExperimentFolder(desc.RunName), $".replicate_{replicate}.import-{Environment.ProcessId}");
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        var layout = new LotteryLayout(temporary);
        var files = new JsonArray();
        var results = new List<LevelResult>();
        using var model = LotteryRunner.Skeleton(desc.Training, context);
        try
        {
            foreach (int level in openLevels)
            {
                if (level != results.Count)
                {
                    notes.Add($"replicate {replicate}: level {results.Count} is missing, so levels from {level} on were not imported.");
                    break;
                }
                string main = Path.Combine(replicateFolder, $"level_{level}", "main");
                string endFile = Path.Combine(main, $"model_{end.Label}.pth");
                if (!File.Exists(endFile))
                {
                    if (level == 0) throw new InvalidDataException(UnfinishedLevelZero(main, end, perEpoch, desc));
                    notes.Add($"replicate {replicate}: level {level} has not finished training in OpenLTH (no {Path.GetFileName(endFile)}); it and later levels were not imported.");
                    break;
                }
                results.Add(ImportLevel(replicateFolder, replicate, level, main, layout, mapped, model, start, end, context, files, notes));
            }

            var lotteryJson = new JsonObject { ["lottery_run"] = desc.RunName, ["lottery"] = desc.ToJson(), ["imported_from"] = "OpenLTH" };
            AtomicFile.WriteJson(Path.Combine(temporary, "lottery.json"), lotteryJson);
            var record = new JsonObject
            {
                ["format"] = "TicketLab import of an OpenLTH lottery run (facebookresearch/open_lth)",
                ["source"] = replicateFolder,
                ["openlth_run"] = Path.GetFileName(Path.GetDirectoryName(replicateFolder)),
                ["openlth_model_name"] = mapped.Model.OpenLthName,
                ["replicate"] = replicate,
                ["lottery_run"] = desc.RunName,
                ["levels"] = new JsonArray(results.Select(r => (JsonNode)r.Level).ToArray()),
                ["flags"] = string.Join(" ", HparamFlags.Of(desc.Training.Dataset, desc.Training.Model, desc.Training.Training, desc.Pruning, desc.Lottery)),
                ["hparams_log"] = hparamsText,
                ["imported"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
                ["ticketlab_version"] = Provenance.TicketLabVersion().Version,
                ["files"] = files,
                ["notes"] = new JsonArray(notes.Distinct().Select(n => (JsonNode)n).ToArray()),
            };
            AtomicFile.WriteJson(Path.Combine(temporary, "import.json"), record);
            Directory.Move(temporary, target);
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
        return new ImportedReplicate(replicate, results.Select(r => r with { Summary = r.Summary with { Folder = new LotteryLayout(target).Main(r.Level).Path } }).ToArray(),
            AlreadyImported: false, target);
    }

    private static string UnfinishedLevelZero(string main, Step end, int perEpoch, LotteryDesc desc)
    {
        var saved = Directory.Exists(main) ? Directory.EnumerateFiles(main, "model_ep*_it*.pth").Select(Path.GetFileName).Order().ToArray() : [];
        return $"{main}: no weights at the end of training ({Path.GetFileName(Path.Combine(main, $"model_{end.Label}.pth"))}: {desc.Training.Training.TrainingSteps} "
            + $"with {perEpoch} iterations per epoch, as TicketLab's {desc.Training.Dataset.DatasetName} gives at batch size {desc.Training.Dataset.BatchSize}); "
            + (saved.Length == 0 ? "the level has no saved weights at all." : $"found {string.Join(", ", saved)}. Level 0 has not finished, or OpenLTH trained on other data.");
    }

    private static LevelResult ImportLevel(string replicateFolder, int replicate, int level, string main, LotteryLayout layout, OpenLthDesc mapped,
        TicketModel model, Step start, Step end, RunContext context, JsonArray files, List<string> notes)
    {
        var desc = mapped.Desc;
        var run = layout.Main(level);
        Directory.CreateDirectory(run.ModelsFolder);
        void Record(string path) => files.Add(new JsonObject { ["path"] = path, ["sha256"] = Sha256(path) });

        string maskFile = Path.Combine(main, "mask.pth");
        if (!File.Exists(maskFile)) throw new InvalidDataException($"{main}: has no mask.pth; OpenLTH writes it before training a level.");
        Record(maskFile);
        using var mask = ReadMask(maskFile, mapped.Model, model);
        mask.Save(layout.MaskPath(level), layout.MaskSummaryPath(level));

        // In this order: the metrics may need the final weights (to evaluate them), the summary needs the metrics.
        ImportWeights(replicateFolder, replicate, level, main, run, mapped.Model, model, mask, start, end, Record, notes);
        var metrics = ImportMetrics(replicate, level, main, run, model, desc, end, context, Record, notes);
        var summary = WriteSummary(run, metrics, end);
        WriteLevelHparams(run, desc, replicate, level, mask.Density, main, mapped.Model);
        WriteLevelProvenance(run, main);
        // Named as it will be once the import's folder is moved into place.
        run.Seal(context.Store.RunName(Path.Combine(context.Store.ReplicateFolder(desc.RunName, replicate), $"level_{level}", "main")));
        return new LevelResult(level, mask.Density, summary);
    }

    /// <summary>
    /// Weights: every saved step of the level, renamed and with its pruned weights set to zero; level 0's
    /// initialization comes from level_pretrain when OpenLTH rewinds to a later step.
    /// </summary>
    private static void ImportWeights(string replicateFolder, int replicate, int level, string main, RunFolder run, OpenLthModel names,
        TicketModel model, Mask mask, Step start, Step end, Action<string> record, List<string> notes)
    {
        var weights = Directory.EnumerateFiles(main, "model_ep*_it*.pth").Where(f => ModelFile().IsMatch(Path.GetFileName(f))).ToList();
        string pretrainInit = Path.Combine(replicateFolder, "level_pretrain", "main", "model_ep0_it0.pth");
        if (level == 0 && start.Iteration > 0 && File.Exists(pretrainInit)) weights.Add(pretrainInit);
        foreach (var file in weights.Order(StringComparer.Ordinal))
        {
            var label = ModelFile().Match(Path.GetFileName(file));
            var step = Step.FromEpochs(long.Parse(label.Groups["ep"].Value, CultureInfo.InvariantCulture), int.Parse(label.Groups["it"].Value, CultureInfo.InvariantCulture), end.IterationsPerEpoch);
            record(file);
            var state = ReadState(file, names, model);
            try
            {
                using (no_grad())
                    foreach (var name in mask.Names) state[name].mul_(mask[name]);
                string target = step.Iteration == end.Iteration ? run.FinalModelPath : run.ModelPath(step);
                TensorFile.Save(target, state.Select(p => (p.Key, p.Value)));
            }
            finally
            {
                foreach (var t in state.Values) t.Dispose();
            }
        }
        if (level == 0 && start.Iteration > 0 && !File.Exists(run.ModelPath(Step.Zero(end.IterationsPerEpoch))))
            notes.Add($"replicate {replicate}: OpenLTH's level_pretrain has no model_ep0_it0.pth, so level 0 has no initialization (the rewind point {start.Label} is there).");
        if (!File.Exists(run.ModelPath(start)))
            throw new InvalidDataException($"{main}: has no weights at the rewind step (model_{start.Label}.pth), which every OpenLTH level saves first.");
    }

    /// <summary>
    /// Metrics: OpenLTH's logger (rows name,iteration,value), else an evaluation of the final weights here;
    /// written to metrics.csv and returned with the final test accuracy and loss and where they came from.
    /// </summary>
    private static (List<MetricRow> Rows, MetricRow Final, MetricRow FinalLoss, string AccuracySource) ImportMetrics(int replicate, int level, string main, RunFolder run, TicketModel model, LotteryDesc desc, Step end,
        RunContext context, Action<string> record, List<string> notes)
    {
        string loggerFile = Path.Combine(main, "logger");
        var rows = new List<MetricRow>();
        string accuracySource;
        if (File.Exists(loggerFile))
        {
            record(loggerFile);
            rows.AddRange(ReadLogger(loggerFile));
            accuracySource = "OpenLTH's logger file";
        }
        else accuracySource = "";
        var final = rows.LastOrDefault(r => r.Name == "test_accuracy" && r.Step == end.Iteration);
        var finalLoss = rows.LastOrDefault(r => r.Name == "test_loss" && r.Step == end.Iteration);
        if (final.Name is null || finalLoss.Name is null)
        {
            var evaluation = EvaluateFinal(run, model, desc, context);
            rows.RemoveAll(r => r.Step == end.Iteration && r.Name is "test_accuracy" or "test_loss");
            rows.Add(new MetricRow("test_loss", end.Iteration, evaluation.Loss));
            rows.Add(new MetricRow("test_accuracy", end.Iteration, evaluation.Accuracy));
            final = new MetricRow("test_accuracy", end.Iteration, evaluation.Accuracy);
            finalLoss = new MetricRow("test_loss", end.Iteration, evaluation.Loss);
            accuracySource = File.Exists(loggerFile)
                ? "OpenLTH's logger file, except the final test accuracy and loss, which it lacks: TicketLab evaluated the final weights on its test set at import"
                : "TicketLab evaluated the final weights on its test set at import: OpenLTH's logger file is missing, so the level has no training curve";
            notes.Add($"replicate {replicate}, level {level}: {accuracySource}.");
        }
        var text = new System.Text.StringBuilder(MetricsLog.Header).Append('\n');
        foreach (var row in rows) text.Append(string.Create(CultureInfo.InvariantCulture, $"{row.Name},{row.Step},{row.Value:R}")).Append('\n');
        AtomicFile.WriteText(run.MetricsPath, text.ToString());
        return (rows, final, finalLoss, accuracySource);
    }

    /// <summary>summary.json of a level, as a finished TicketLab run's, marked as imported and saying where its accuracy comes from.</summary>
    private static TrainingSummary WriteSummary(RunFolder run, (List<MetricRow> Rows, MetricRow Final, MetricRow FinalLoss, string AccuracySource) metrics, Step end)
    {
        var accuracies = metrics.Rows.Where(r => r.Name == "test_accuracy").ToArray();
        var best = accuracies.MaxBy(r => r.Value);
        var summary = new TrainingSummary
        {
            Folder = run.Path,
            FinalTestAccuracy = metrics.Final.Value,
            FinalTestLoss = metrics.FinalLoss.Value,
            BestTestAccuracy = best.Value,
            BestTestAccuracyStep = best.Step,
            Iterations = end.Iteration,
            IterationsPerEpoch = end.IterationsPerEpoch,
            SecondsPerEpoch = double.NaN,
            ImagesPerSecond = double.NaN,
            AlreadyFinished = true,
        };
        var summaryJson = summary.ToJson();
        summaryJson["imported_from"] = "OpenLTH";
        summaryJson["accuracy_source"] = metrics.AccuracySource;
        run.WriteJson(run.SummaryPath, summaryJson);
        return summary;
    }

    /// <summary>hparams.json of a level, with what a TicketLab lottery run's has (seeds, level, density) and the OpenLTH folder it came from.</summary>
    private static void WriteLevelHparams(RunFolder run, LotteryDesc desc, int replicate, int level, double density, string main, OpenLthModel names)
    {
        var hparams = desc.Training.ToJson();
        hparams["replicate"] = replicate;
        hparams["model_init_seed"] = TrainingRunner.ModelSeed(desc.Training, replicate);
        hparams["data_order_seed"] = TrainingRunner.DataOrderSeed(desc.Training, replicate);
        hparams["run_name"] = desc.Training.RunName;
        hparams["data_files"] = new JsonArray();
        hparams["level"] = level;
        hparams["density"] = density;
        hparams["lottery_run"] = desc.RunName;
        hparams["imported_from"] = new JsonObject { ["framework"] = "OpenLTH", ["folder"] = main, ["openlth_model_name"] = names.OpenLthName };
        run.WriteJson(run.HparamsPath, hparams);
    }

    /// <summary>provenance.json of a level: one session whose outcome is the import.</summary>
    private static void WriteLevelProvenance(RunFolder run, string main) =>
        run.WriteJson(run.ProvenancePath, new JsonObject
        {
            ["imported_from"] = main,
            ["started"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
            ["sessions"] = new JsonArray(new JsonObject
            {
                ["outcome"] = "imported", ["ticketlab_version"] = Provenance.TicketLabVersion().Version, ["libtorch_version"] = __version__,
                ["host"] = Environment.MachineName,
            }),
        });

    /// <summary>A state dict of OpenLTH's, renamed to TicketLab's keys and checked against the model: the same keys, each of the same shape.</summary>
    private static Dictionary<string, Tensor> ReadState(string file, OpenLthModel names, TicketModel model)
    {
        var loaded = PyTorchFile.Load(file);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in loaded) state[names.FromOpenLth(key)] = tensor;
        try
        {
            var expected = model.state_dict();
            var missing = expected.Keys.Where(k => !state.ContainsKey(k)).Select(names.ToOpenLth).ToArray();
            var extra = state.Keys.Where(k => !expected.ContainsKey(k)).Select(names.ToOpenLth).ToArray();
            if (missing.Length > 0 || extra.Length > 0)
                throw new InvalidDataException($"{file}: does not fit OpenLTH's {names.OpenLthName}: "
                    + (missing.Length > 0 ? $"missing {string.Join(", ", missing.Take(5))}" : "") + (missing.Length > 0 && extra.Length > 0 ? "; " : "")
                    + (extra.Length > 0 ? $"unexpected {string.Join(", ", extra.Take(5))}" : "") + ".");
            foreach (var (key, target) in expected)
            {
                if (!state[key].shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{file}: '{names.ToOpenLth(key)}' has shape [{string.Join(",", state[key].shape)}], "
                        + $"TicketLab's {model.ModelName} on this dataset has [{string.Join(",", target.shape)}].");
                if (state[key].dtype != target.dtype)
                {
                    var converted = state[key].to_type(target.dtype);
                    state[key].Dispose();
                    state[key] = converted;
                }
            }
            return state;
        }
        catch
        {
            foreach (var t in state.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>OpenLTH's mask.pth (int 0/1 per prunable weight), renamed; it must cover exactly the model's prunable weights.</summary>
    private static Mask ReadMask(string file, OpenLthModel names, TicketModel model)
    {
        var loaded = PyTorchFile.Load(file);
        try
        {
            var renamed = loaded.ToDictionary(p => names.FromOpenLth(p.Key), p => p.Value, StringComparer.Ordinal);
            var prunable = model.PrunableParameterNames;
            if (!renamed.Keys.Order(StringComparer.Ordinal).SequenceEqual(prunable.Order(StringComparer.Ordinal)))
                throw new InvalidDataException($"{file}: masks {string.Join(", ", loaded.Keys.Order(StringComparer.Ordinal).Take(6))}, "
                    + $"but OpenLTH's {names.OpenLthName} prunes {string.Join(", ", prunable.Select(names.ToOpenLth).Take(6))}.");
            Mask mask;
            try { mask = new Mask(renamed, file); }
            catch (ArgumentException e) { throw new InvalidDataException($"{file}: {e.Message}", e); }
            try { mask.CheckNames(model); }
            catch { mask.Dispose(); throw; }
            return mask;
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private static IEnumerable<MetricRow> ReadLogger(string file)
    {
        int number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new InvalidDataException($"{file}:{number}: expected OpenLTH's logger row 'name,iteration,value', got '{line}'.");
            yield return new MetricRow(parts[0], step, value);
        }
    }

    private static EvaluationResult EvaluateFinal(RunFolder run, TicketModel model, LotteryDesc desc, RunContext context)
    {
        var (_, test) = context.Data.Get(desc.Training.Dataset.DatasetName, desc.Training.Dataset.TrainSubset, context.Device);
        ModelState.Load(model, run.FinalModelPath);
        model.to(context.Device);
        return Evaluator.Evaluate(model, test);
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}

/// <summary>The command-line flags that reproduce hyperparameter bundles: every value that differs from its record's default.</summary>
public static class HparamFlags
{
    public static IReadOnlyList<string> Of(params IHparams[] bundles)
    {
        var flags = new List<string>();
        foreach (var bundle in bundles)
        {
            var defaults = HparamJson.ToJson(Activator.CreateInstance(bundle.GetType())!);
            var values = HparamJson.ToJson(bundle);
            foreach (var field in HparamField.Of(bundle.GetType()))
            {
                defaults.TryGetPropertyValue(field.Name, out var d);
                values.TryGetPropertyValue(field.Name, out var v);
                if (JsonNode.DeepEquals(d, v)) continue;
                object? value = field.Get(bundle);
                if (value is true) flags.Add(field.Flag);
                else
                {
                    flags.Add(field.Flag);
                    flags.Add(value is null ? "none" : field.Format(value));
                }
            }
        }
        return flags;
    }
}
