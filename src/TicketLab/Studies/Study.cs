using System.Globalization;
using TicketLab.Experiments;
using Tomlyn;
using Tomlyn.Model;

namespace TicketLab.Studies;

/// <summary>A study file that cannot be used: the message names the file, the key and what to write instead.</summary>
public sealed class StudyFileException(string message) : Exception(message);

/// <summary>Flags as written on the command line, without the dashes, in the order given.</summary>
public sealed record FlagSet(IReadOnlyList<KeyValuePair<string, string>> Values)
{
    public static readonly FlagSet Empty = new([]);

    /// <summary>These flags, then <paramref name="overrides"/> replacing any of the same name.</summary>
    public FlagSet With(FlagSet overrides) =>
        new([.. Values.Where(v => overrides.Values.All(o => o.Key != v.Key)), .. overrides.Values]);

    public IEnumerable<string> ToArgs() => Values.SelectMany(v => v.Value == FlagValue.Present ? new[] { "--" + v.Key } : ["--" + v.Key, v.Value]);

    public string? this[string key] => Values.LastOrDefault(v => v.Key == key).Value;
}

internal static class FlagValue
{
    /// <summary>A boolean flag set to true is written bare (<c>--eval-train</c>).</summary>
    public const string Present = NamedFlags.PresentFlag;
}

/// <summary>One <c>[[experiment]]</c> of a study file: a registered kind, its flags and replicates, and the keys only its kind reads.</summary>
public sealed record ExperimentSpec
{
    public required ExperimentKind Kind { get; init; }
    public required int Index { get; init; }
    public FlagSet Flags { get; init; } = FlagSet.Empty;
    public int Replicates { get; init; } = 1;
    /// <summary>The table as the kind reads it (a lottery's levels, branches, analyses, instability).</summary>
    public required IStudyEntry Entry { get; init; }
    /// <summary>The command (<c>rewind-sweep</c>), as the study file names the kind.</summary>
    public string Command => Kind.CommandName;
}

/// <summary>Resources of each Slurm job, from the study file's <c>[slurm]</c> table or flags.</summary>
public sealed record SlurmResources
{
    /// <summary>Null: the study's threads per unit, so a job gets exactly the cores its unit uses.</summary>
    public int? CpusPerTask { get; init; }
    public int Gpus { get; init; }
    public string? Memory { get; init; }
    public string? Time { get; init; }
    public string? Partition { get; init; }
    public string? Account { get; init; }
    public IReadOnlyList<string> ExtraSbatchLines { get; init; } = [];
}

/// <summary>
/// A study: recipes (shared flags, optionally swept over values) times experiments (train,
/// lottery with branches and analyses, instability, rewind sweep), read from a TOML file. TOML
/// because a study is flat configuration: no indentation to get wrong, no implicit typing (YAML
/// reads <c>no</c> as false and <c>1e-3</c> as a string), comments, and the format Python's own
/// tooling settled on (pyproject.toml).
/// </summary>
public sealed record Study
{
    public required string Name { get; init; }
    public required string SourcePath { get; init; }
    public string Description { get; init; } = "";
    public FlagSet Flags { get; init; } = FlagSet.Empty;
    /// <summary>Each flag's values; every combination is one recipe.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Sweep { get; init; } = [];
    public IReadOnlyList<ExperimentSpec> Experiments { get; init; } = [];
    public SlurmResources Slurm { get; init; } = new();
    /// <summary>
    /// CPU threads of every unit. Weights depend on the thread count (float sums split differently),
    /// so the study fixes it: the same results with one worker or several, locally or on Slurm.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// Networks trained together as one stacked model: the same level (or branch) of up to this many
    /// replicates of a recipe runs as one unit group in one process. Fixed by the study, like the
    /// threads, so the grouping (and so the float rounding) does not depend on the workers; 1: each alone.
    /// By default 8 on a GPU (<c>device = "cuda"</c>), where a small network's step is all launch
    /// overhead, and 1 on CPUs: there a unit has the study's one thread, and a stack of 8 LeNets at one
    /// thread trains no faster than 8 lone runs (0.95 times, docs/performance.md) while it takes away
    /// the other workers' share of the units.
    /// </summary>
    public int NetworksPerProcess { get; init; } = 1;

    /// <summary>The default of <see cref="NetworksPerProcess"/>: stacking where it pays, on a GPU.</summary>
    private static int DefaultNetworksPerProcess(FlagSet flags, IEnumerable<ExperimentSpec> experiments) =>
        flags["device"] == "cuda" || experiments.Any(e => e.Flags["device"] == "cuda") ? Training.StackedTraining.DefaultNetworks : 1;

    /// <summary>The commands a study's <c>[[experiment]]</c> may name: every registered kind that has one.</summary>
    public static IReadOnlyList<string> Commands => ExperimentRegistry.All.Where(k => k.CommandDescription is not null).Select(k => k.CommandName).ToArray();

    public static Study Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new StudyFileException($"{path}: no such study file. Give the path of a .toml study file (see studies/).");
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(full))!;
        }
        catch (TomlException e)
        {
            throw new StudyFileException($"{path}:{e.Line}:{e.Column}: not valid TOML ({e.Message.Split('\n')[0].Trim()}).");
        }
        return FromToml(root, full);
    }

    private static readonly string[] TopKeys = ["name", "description", "threads", "networks_per_process", "flags", "sweep", "experiment", "slurm"];
    private static readonly string[] CommonExperimentKeys = ["command", "replicates", "flags"];
    private static readonly string[] SlurmKeys = ["cpus-per-task", "gpus", "mem", "time", "partition", "account", "sbatch"];

    public static Study FromToml(TomlTable root, string path)
    {
        var reader = new TomlReader(path);
        reader.OnlyKeys(root, TopKeys, "the top level");
        var experiments = root.TryGetValue("experiment", out var list)
            ? list is TomlTableArray tables ? tables.Select((t, i) => ReadExperiment(reader, t, i + 1)).ToArray()
                : throw reader.Error("experiment", "must be a list of tables: write each one as [[experiment]].")
            : [];
        if (experiments.Length == 0) throw reader.Error("experiment", "the study has no [[experiment]]; add at least one (command = \"lottery\", ...).");
        var sweep = root.TryGetValue("sweep", out var s)
            ? reader.Table(s, "sweep").Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)(p.Value is TomlArray values && values.Count > 0
                ? values.Select(v => reader.Text(v!, $"sweep.{p.Key}")).ToArray()
                : throw reader.Error($"sweep.{p.Key}", "must be a non-empty list of values, e.g. [0.1, 0.05].")))).ToArray()
            : [];
        var flags = root.TryGetValue("flags", out var f) ? reader.Flags(f, "flags") : FlagSet.Empty;
        return new Study
        {
            Name = root.TryGetValue("name", out var n) ? reader.Text(n, "name") : Path.GetFileNameWithoutExtension(path),
            SourcePath = path,
            Description = root.TryGetValue("description", out var d) ? reader.Text(d, "description") : "",
            Flags = flags,
            Sweep = sweep,
            Experiments = experiments,
            Slurm = root.TryGetValue("slurm", out var slurm) ? ReadSlurm(reader, reader.Table(slurm, "slurm")) : new SlurmResources(),
            Threads = root.TryGetValue("threads", out var t) ? reader.Integer(t, "threads", min: 1) : 1,
            NetworksPerProcess = root.TryGetValue("networks_per_process", out var np) ? reader.Integer(np, "networks_per_process", min: 1) : DefaultNetworksPerProcess(flags, experiments),
        };
    }

    private static ExperimentSpec ReadExperiment(TomlReader reader, TomlTable table, int index)
    {
        string at = $"experiment {index}";
        string command = table.TryGetValue("command", out var c) ? reader.Text(c, $"{at}: command")
            : throw reader.Error($"{at}: command", $"is missing; give one of {string.Join(", ", Commands)}.");
        if (!Commands.Contains(command)) throw reader.Error($"{at}: command", $"'{command}' is not one of {string.Join(", ", Commands)}.");
        var kind = ExperimentRegistry.All.Single(k => k.CommandName == command && k.CommandDescription is not null);
        // A key another kind reads is named as such; one no kind reads is unknown.
        foreach (var key in table.Keys.Where(k => !CommonExperimentKeys.Contains(k) && !kind.StudyKeys.Contains(k)))
        {
            var owner = ExperimentRegistry.All.FirstOrDefault(k => k.StudyKeys.Contains(key));
            throw reader.Error(owner is null ? key : $"{at}: {key}", owner is null
                ? $"unknown key in {at}; known keys: {string.Join(", ", ["command", "replicates", .. kind.StudyKeys, "flags"])}."
                : $"only applies to command = \"{owner.CommandName}\", not \"{command}\".");
        }
        int replicates = table.TryGetValue("replicates", out var r) ? reader.Integer(r, $"{at}: replicates", min: 1) : 1;
        var spec = new ExperimentSpec
        {
            Kind = kind,
            Index = index,
            Flags = table.TryGetValue("flags", out var f) ? reader.Flags(f, $"{at}: flags") : FlagSet.Empty,
            Replicates = replicates,
            Entry = new TomlEntry(reader, table, at, replicates),
        };
        // A kind that counts its replicates in its own record (a rewind sweep) gets the count as its flag.
        if (kind.ReplicateFlags == ReplicateFlags.InRecord && table.ContainsKey("replicates"))
            spec = spec with { Flags = spec.Flags.With(new FlagSet([KeyValuePair.Create("replicates", replicates.ToString(CultureInfo.InvariantCulture))])) };
        kind.Expand(spec.Entry).ToArray(); // a kind's own keys are checked when the file is read, not when it runs
        return spec;
    }

    /// <summary>An <c>[[experiment]]</c> table read for its kind; errors name the file, the experiment and the key.</summary>
    private sealed class TomlEntry(TomlReader reader, TomlTable table, string at, int replicates) : IStudyEntry
    {
        public int Replicates => replicates;
        public bool Has(string key) => table.ContainsKey(key);
        public int Integer(string key, int min, int fallback) => table.TryGetValue(key, out var v) ? reader.Integer(v, $"{at}: {key}", min) : fallback;
        public bool Boolean(string key) => table.TryGetValue(key, out var v) && reader.Boolean(v, $"{at}: {key}");
        public IReadOnlyList<int> Integers(string key, int min) =>
            table.TryGetValue(key, out var v) ? reader.Array(v, $"{at}: {key}").Select(i => reader.Integer(i!, $"{at}: {key}", min)).ToArray() : [];
        public Exception Error(string key, string problem) => reader.Error($"{at}: {key}", problem);

        public IReadOnlyList<NamedFlags> Named(string key, string example) => table.TryGetValue(key, out var b) ? reader.Array(b, $"{at}: {key}").Select(v => v switch
        {
            string name => new NamedFlags(name, []),
            TomlTable t => new NamedFlags(t.TryGetValue("name", out var bn) ? reader.Text(bn, $"{at}: {key}.name") : throw reader.Error($"{at}: {key}", "a table in it needs a name."),
                t.TryGetValue("flags", out var bf) ? reader.Flags(bf, $"{at}: {key}.flags").Values : []),
            _ => throw reader.Error($"{at}: {key}", $"each entry is a name or a table with a name and flags, e.g. {example}."),
        }).ToArray() : [];
    }

    private static SlurmResources ReadSlurm(TomlReader reader, TomlTable table)
    {
        reader.OnlyKeys(table, SlurmKeys, "[slurm]");
        string? Text(string key) => table.TryGetValue(key, out var v) ? reader.Text(v, $"slurm.{key}") : null;
        return new SlurmResources
        {
            CpusPerTask = table.TryGetValue("cpus-per-task", out var c) ? reader.Integer(c, "slurm.cpus-per-task", min: 1) : null,
            Gpus = table.TryGetValue("gpus", out var g) ? reader.Integer(g, "slurm.gpus", min: 0) : 0,
            Memory = Text("mem"), Time = Text("time"), Partition = Text("partition"), Account = Text("account"),
            ExtraSbatchLines = table.TryGetValue("sbatch", out var s) ? reader.Array(s, "slurm.sbatch").Select(v => reader.Text(v!, "slurm.sbatch")).ToArray() : [],
        };
    }

    /// <summary>Typed reads of TOML values whose errors name the file and the key.</summary>
    private sealed class TomlReader(string path)
    {
        public StudyFileException Error(string key, string problem) => new($"{path}: {key}: {problem}");

        public void OnlyKeys(TomlTable table, string[] known, string where)
        {
            foreach (var key in table.Keys)
                if (!known.Contains(key))
                    throw Error(key, $"unknown key in {where}; known keys: {string.Join(", ", known)}.");
        }

        public TomlTable Table(object value, string key) => value as TomlTable ?? throw Error(key, "must be a table.");
        public TomlArray Array(object value, string key) => value as TomlArray ?? throw Error(key, "must be a list, e.g. [0, 3].");

        public int Integer(object value, string key, int min) => value is long v && v >= min && v <= int.MaxValue
            ? (int)v : throw Error(key, $"must be a whole number of at least {min}, got {Show(value)}.");

        public bool Boolean(object value, string key) => value as bool? ?? throw Error(key, $"must be true or false, got {Show(value)}.");

        /// <summary>A scalar as command-line text: numbers in invariant form, lists comma-separated.</summary>
        public string Text(object value, string key) => value switch
        {
            string s => s,
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            TomlArray a => string.Join(",", a.Select(v => Text(v!, key))),
            _ => throw Error(key, $"must be a string, number or boolean, got {Show(value)}."),
        };

        public FlagSet Flags(object value, string key)
        {
            var table = Table(value, key);
            return new FlagSet(table.Select(p =>
            {
                if (p.Key.StartsWith('-')) throw Error($"{key}.{p.Key}", "write flags without the leading dashes (train-subset, not --train-subset).");
                if (p.Key is "root" or "replicate" or "replicates" or "levels" or "level" or "threads" or "networks-per-process" or "json" or "quiet")
                    throw Error($"{key}.{p.Key}", p.Key is "root" ? "is set when the study runs (study run --root), not in the study file."
                        : p.Key is "threads" ? "is the study's own top-level key (threads = 2, before any table): every unit uses the same count."
                        : p.Key is "networks-per-process" ? "is the study's own top-level key (networks_per_process = 8, before any table): it fixes which units train together."
                        : "is set by the study's structure (replicates, levels, instability); use those keys instead.");
                string text = p.Value is bool b ? (b ? FlagValue.Present : "false") : Text(p.Value!, $"{key}.{p.Key}");
                return KeyValuePair.Create(p.Key, text);
            }).ToArray());
        }

        private static string Show(object? value) => value switch { null => "nothing", string s => $"\"{s}\"", _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?" };
    }
}
