using System.Globalization;
using System.Text.RegularExpressions;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Models;

namespace TicketLab.Interop;

/// <summary>
/// OpenLTH's <c>hparams.log</c> (written by <c>foundations/desc.py</c> <c>Desc.save</c>, each bundle by
/// <c>foundations/hparams.py</c> <c>Hparams.display</c>): bundles in the order of the description's
/// sorted field names, each a header line (<c>Dataset Hyperparameters</c>, <c>Pretraining Training
/// Hyperparameters</c>, ...) followed by <c>    * name => value</c> lines for the fields that are
/// required or set to a true value (so zeros, False and None are left out). Values are Python's
/// <c>str()</c>: <c>0.0001</c>, <c>1e-05</c>, <c>True</c>.
/// </summary>
public sealed partial class OpenLthHparamsLog
{
    /// <summary>The bundles TicketLab maps: dataset, model, training, pruning, pretrain_dataset, pretrain_training.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Sections { get; }

    public string Source { get; }

    private OpenLthHparamsLog(string source, Dictionary<string, IReadOnlyDictionary<string, string>> sections) => (Source, Sections) = (source, sections);

    [GeneratedRegex(@"^\s+\*\s+(?<key>\w+)\s+=>\s?(?<value>.*?)\s*$")] private static partial Regex FieldLine();

    public static OpenLthHparamsLog Parse(string text, string source)
    {
        var sections = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        int number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            if (!char.IsWhiteSpace(line[0]))
            {
                string name = SectionName(line.Trim())
                    ?? throw new InvalidDataException($"{source}:{number}: '{line.Trim()}' is not a bundle of OpenLTH's hparams.log (Dataset, Model, Training or Pruning Hyperparameters).");
                if (sections.ContainsKey(name)) throw new InvalidDataException($"{source}:{number}: '{line.Trim()}' appears twice.");
                sections[name] = current = new Dictionary<string, string>(StringComparer.Ordinal);
                continue;
            }
            var match = FieldLine().Match(line);
            if (!match.Success || current is null)
                throw new InvalidDataException($"{source}:{number}: expected '    * name => value' under a bundle header, got '{line.Trim()}'.");
            current[match.Groups["key"].Value] = match.Groups["value"].Value;
        }
        if (!sections.ContainsKey("dataset") || !sections.ContainsKey("model") || !sections.ContainsKey("training") || !sections.ContainsKey("pruning"))
            throw new InvalidDataException($"{source}: lacks {string.Join(", ", new[] { "dataset", "model", "training", "pruning" }.Where(s => !sections.ContainsKey(s)))} hyperparameters; "
                + "an OpenLTH lottery run's hparams.log has all four.");
        return new OpenLthHparamsLog(source, sections);
    }

    private static string? SectionName(string header)
    {
        string prefix = "";
        if (header.StartsWith("Pretraining ", StringComparison.Ordinal))
        {
            prefix = "pretrain_";
            header = header["Pretraining ".Length..];
        }
        // Pruning first: sparse_global's bundle is "Hyperparameters for Sparse Global Pruning" in some versions.
        string? kind = header.Contains("Pruning", StringComparison.Ordinal) ? "pruning"
            : header.Contains("Dataset", StringComparison.Ordinal) ? "dataset"
            : header.Contains("Model", StringComparison.Ordinal) ? "model"
            : header.Contains("Training", StringComparison.Ordinal) ? "training"
            : null;
        return kind is null || (prefix.Length > 0 && kind is "model" or "pruning") ? null : prefix + kind;
    }
}

/// <summary>An OpenLTH lottery description in TicketLab's terms, with what the mapping had to say.</summary>
public sealed record OpenLthDesc(LotteryDesc Desc, OpenLthModel Model, IReadOnlyList<string> Notes);

/// <summary>
/// Maps OpenLTH's hyperparameters onto TicketLab's (<see cref="TrainingDesc"/>, <see cref="PruningHparams"/>,
/// <see cref="LotteryHparams"/>). Every OpenLTH field either has a counterpart or stops the import with
/// a message naming it: an import never silently changes what the run was.
/// </summary>
public static class OpenLthHparamsMapping
{
    public static OpenLthDesc ToTicketLab(OpenLthHparamsLog log)
    {
        var notes = new List<string>();
        var fields = new Fields(log);
        // Bundle by bundle in this order: a log with several faults is refused for the first, so the order decides the message.
        var dataset = MapDataset(fields);
        var (model, modelHparams) = MapModel(fields);
        var training = MapTraining(fields, "training");
        if (fields.Get("training", "apex_fp16") is "True") notes.Add("OpenLTH trained this run in float16 (apex_fp16); TicketLab continues it in float32.");
        var desc = new TrainingDesc(dataset, modelHparams, training);
        var pruning = MapPruning(fields, model);
        var lottery = MapRewinding(fields, training);
        fields.RefuseUnread();

        var result = new LotteryDesc(desc, pruning, lottery);
        try
        {
            result.Validate();
        }
        catch (HparamException e)
        {
            throw new InvalidDataException($"{log.Source}: maps to TicketLab hyperparameters that TicketLab refuses ({e.Message}).", e);
        }
        if (training.DataOrderSeed is null)
            notes.Add("OpenLTH drew a fresh data order (no data_order_seed); runs TicketLab adds to this experiment (branches, more levels) order the data by the replicate number.");
        return new OpenLthDesc(result, model, notes);
    }

    /// <summary>
    /// The log's fields, read by bundle and name and parsed with messages that name them. It remembers
    /// every field read, so that <see cref="RefuseUnread"/> can stop the import at any field nothing mapped.
    /// </summary>
    private sealed class Fields(OpenLthHparamsLog log)
    {
        private readonly Dictionary<string, HashSet<string>> used = log.Sections.ToDictionary(s => s.Key, _ => new HashSet<string>(StringComparer.Ordinal));

        public OpenLthHparamsLog Log => log;

        public string? Get(string section, string key)
        {
            if (!log.Sections.TryGetValue(section, out var fields)) return null;
            used[section].Add(key);
            return fields.TryGetValue(key, out var value) ? value : null;
        }

        public string Required(string section, string key) =>
            Get(section, key) ?? throw new InvalidDataException($"{log.Source}: '{key}' is missing from the {section} hyperparameters.");

        private T Parse<T>(string section, string key, string text, Func<string, T> parse)
        {
            try { return parse(text); }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw new InvalidDataException($"{log.Source}: {section} hyperparameter {key} => {text} is not valid ({e.Message.TrimEnd('.')}).");
            }
        }

        public double Double(string section, string key, string text) => Parse(section, key, text, t => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture));
        public int Int(string section, string key, string text) => Parse(section, key, text, t => int.Parse(t, NumberStyles.Integer, CultureInfo.InvariantCulture));
        public StepSpec Step(string section, string key, string text) => Parse(section, key, text, StepSpec.Parse);
        public bool Flag(string section, string key) => Get(section, key) is { } text && Parse(section, key, text, t => t switch
        {
            "True" => true, "False" => false, _ => throw new FormatException("expected True or False"),
        });

        public InvalidDataException Unsupported(string section, string key, string value, string why) =>
            new($"{log.Source}: OpenLTH's {section} hyperparameter {key} => {value} has no TicketLab counterpart ({why}); the run cannot be imported faithfully.");

        /// <summary>Counts fields as mapped without reading them one by one (a bundle found equal to another as a whole).</summary>
        public void MarkRead(string section, IEnumerable<string> keys) => used[section].UnionWith(keys);

        /// <summary>Throws at the first field, in the log's order, that no mapping read: it would be silently dropped.</summary>
        public void RefuseUnread()
        {
            foreach (var (section, fields) in log.Sections)
                foreach (var (key, value) in fields)
                    if (!used[section].Contains(key))
                        throw Unsupported(section.Replace('_', ' '), key, value, "TicketLab has no such hyperparameter");
        }
    }

    private static DatasetHparams MapDataset(Fields fields)
    {
        string datasetName = fields.Required("dataset", "dataset_name");
        if (!DatasetCatalog.TryGet(datasetName, out _))
            throw fields.Unsupported("dataset", "dataset_name", datasetName, $"TicketLab knows {string.Join(", ", DatasetCatalog.Names)}");
        foreach (var key in new[] { "transformation_seed", "subsample_fraction", "random_labels_fraction", "unsupervised_labels", "blur_factor" })
            if (fields.Get("dataset", key) is { } value) throw fields.Unsupported("dataset", key, value, "TicketLab trains on the whole, unaltered training set");
        return new DatasetHparams
        {
            DatasetName = datasetName,
            BatchSize = fields.Int("dataset", "batch_size", fields.Required("dataset", "batch_size")),
            DoNotAugment = fields.Flag("dataset", "do_not_augment"),
        };
    }

    private static (OpenLthModel Model, ModelHparams Hparams) MapModel(Fields fields)
    {
        string openLthModel = fields.Required("model", "model_name");
        var model = OpenLthModel.FromOpenLthName(openLthModel);
        string init = fields.Required("model", "model_init");
        var modelInit = init switch
        {
            "kaiming_normal" => ModelInit.KaimingNormal,
            "kaiming_uniform" => ModelInit.KaimingUniform,
            _ => throw fields.Unsupported("model", "model_init", init, "TicketLab initializes with kaiming_normal, kaiming_uniform or xavier"),
        };
        string bnInit = fields.Get("model", "batchnorm_init") ?? "uniform";
        var batchnormInit = bnInit switch
        {
            "uniform" => BatchnormInit.Uniform,
            "fixed" => BatchnormInit.Fixed,
            _ => throw fields.Unsupported("model", "batchnorm_init", bnInit, "TicketLab has uniform and fixed"),
        };
        foreach (var key in new[] { "batchnorm_frozen", "output_frozen", "others_frozen", "others_frozen_exceptions" })
            if (fields.Get("model", key) is { } value) throw fields.Unsupported("model", key, value, "TicketLab trains every parameter");
        return (model, new ModelHparams { ModelName = model.TicketLabName, ModelInit = modelInit, BatchnormInit = batchnormInit });
    }

    /// <summary>The training bundle (<c>training</c>, or <c>pretrain_training</c> for the steps before the rewind point).</summary>
    private static TrainingHparams MapTraining(Fields fields, string section)
    {
        fields.Get(section, "apex_fp16"); // float16 training: ToTicketLab notes it, nothing to map
        string optimizer = fields.Required(section, "optimizer_name");
        double momentum = fields.Get(section, "momentum") is { } m ? fields.Double(section, "momentum", m) : 0;
        double nesterov = fields.Get(section, "nesterov_momentum") is { } n ? fields.Double(section, "nesterov_momentum", n) : 0;
        string? milestones = fields.Get(section, "milestone_steps");
        string? gamma = fields.Get(section, "gamma");
        // OpenLTH's SGD: momentum = momentum or nesterov_momentum, Nesterov when nesterov_momentum > 0.
        return new TrainingHparams
        {
            OptimizerName = optimizer switch
            {
                "sgd" => OptimizerName.Sgd,
                "adam" => OptimizerName.Adam,
                _ => throw fields.Unsupported(section, "optimizer_name", optimizer, "TicketLab has sgd and adam"),
            },
            Lr = fields.Double(section, "lr", fields.Required(section, "lr")),
            TrainingSteps = fields.Step(section, "training_steps", fields.Required(section, "training_steps")),
            Momentum = optimizer == "sgd" ? (momentum != 0 ? momentum : nesterov) : 0,
            NesterovMomentum = optimizer == "sgd" && nesterov > 0,
            WeightDecay = fields.Get(section, "weight_decay") is { } wd ? fields.Double(section, "weight_decay", wd) : 0,
            LrSchedule = LrSchedule.MultiStep,
            MilestoneSteps = milestones is null ? [] : milestones.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => fields.Step(section, "milestone_steps", s)).ToArray(),
            Gamma = gamma is null ? 0.1 : fields.Double(section, "gamma", gamma),
            WarmupSteps = fields.Get(section, "warmup_steps") is { } warmup ? fields.Step(section, "warmup_steps", warmup) : default,
            DataOrderSeed = fields.Get(section, "data_order_seed") is { } seed ? fields.Int(section, "data_order_seed", seed) : null,
        };
    }

    private static PruningHparams MapPruning(Fields fields, OpenLthModel model)
    {
        string strategy = fields.Required("pruning", "pruning_strategy");
        if (strategy != "sparse_global") throw fields.Unsupported("pruning", "pruning_strategy", strategy, "OpenLTH's sparse_global is the strategy TicketLab reproduces");
        bool ignoresOutput = ModelRegistry.DefaultIgnoresOutputLayer(model.TicketLabName);
        string? ignored = fields.Get("pruning", "pruning_layers_to_ignore") is { } list
            ? string.Join(",", list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(model.FromOpenLth))
            : null;
        return new PruningHparams
        {
            PruningStrategy = "sparse_global",
            PruningFraction = fields.Get("pruning", "pruning_fraction") is { } fraction ? fields.Double("pruning", "pruning_fraction", fraction) : 0.2,
            // TicketLab's default (null) leaves lenet's and vgg's output layer dense, as OpenLTH's default recipes do.
            PruningLayersToIgnore = (ignored, ignoresOutput) switch
            {
                (null, true) => "none",
                ("fc.weight", true) => null,
                _ => ignored,
            },
            // OpenLTH's rule for how many weights a level prunes, so that more levels continue the run as OpenLTH would.
            PruningCountRule = PruningCountRule.Openlth,
        };
    }

    /// <summary>
    /// Rewinding: OpenLTH pretrains with the main recipe up to the rewind step (--rewinding_steps), which
    /// TicketLab's --rewind-step reproduces only when the pretraining's data and recipe are the main ones.
    /// </summary>
    private static LotteryHparams MapRewinding(Fields fields, TrainingHparams training)
    {
        var lottery = new LotteryHparams();
        var sections = fields.Log.Sections;
        if (sections.ContainsKey("pretrain_training") || sections.ContainsKey("pretrain_dataset"))
        {
            var pretrain = MapTraining(fields, "pretrain_training");
            if (sections.TryGetValue("pretrain_dataset", out var pretrainDataset))
            {
                if (!pretrainDataset.OrderBy(p => p.Key).SequenceEqual(sections["dataset"].OrderBy(p => p.Key)))
                    throw new InvalidDataException($"{fields.Log.Source}: the run pretrains on other data than it trains on; TicketLab rewinds within one recipe (--rewind-step), so it cannot import this run.");
                fields.MarkRead("pretrain_dataset", pretrainDataset.Keys);
            }
            if (!System.Text.Json.Nodes.JsonNode.DeepEquals(HparamJson.ToJson(pretrain with { TrainingSteps = training.TrainingSteps }), HparamJson.ToJson(training)))
                throw new InvalidDataException($"{fields.Log.Source}: the run pretrains with another recipe than it trains with; TicketLab rewinds within one recipe (--rewind-step), so it cannot import this run.");
            lottery = lottery with { RewindStep = pretrain.TrainingSteps };
        }
        return lottery;
    }
}
