namespace TicketLab.Experiments;

/// <summary>A name with its own flags, as a study file lists branches and analyses: <c>"random_reinit"</c> or <c>{ name = "retrain", flags = {...} }</c>.</summary>
public sealed record NamedFlags(string Name, IReadOnlyList<KeyValuePair<string, string>> Flags)
{
    /// <summary>The flags as command-line arguments (<c>--name value</c>, a true boolean bare).</summary>
    public IEnumerable<string> Args => Flags.SelectMany(f => f.Value == PresentFlag ? new[] { "--" + f.Key } : ["--" + f.Key, f.Value]);

    /// <summary>The value a boolean flag set to true has: written bare (<c>--magnitudes</c>).</summary>
    public const string PresentFlag = "\u0000present";
}

/// <summary>
/// One <c>[[experiment]]</c> table of a study file as its kind reads it: typed reads whose errors name
/// the file and the key. The keys every kind has (command, replicates, flags) are read by the study.
/// </summary>
public interface IStudyEntry
{
    int Replicates { get; }
    bool Has(string key);
    int Integer(string key, int min, int fallback);
    bool Boolean(string key);
    IReadOnlyList<int> Integers(string key, int min);
    /// <summary>A list of names, or tables with a name and flags; <paramref name="example"/> shows the form in errors.</summary>
    IReadOnlyList<NamedFlags> Named(string key, string example);
    /// <summary>An error about a key of this entry ("study.toml: experiment 2: levels: ...").</summary>
    Exception Error(string key, string problem);
}

/// <summary>
/// A unit of a study as its kind plans it: an id under the experiment's (<c>replicate_1/level_2</c>),
/// the command and its own arguments (the recipe's flags are added by the study), the ids of the
/// units it needs (under the same experiment), and where it stands in the experiment.
/// </summary>
public sealed record PlannedUnit(string Id, string Command, IReadOnlyList<string> Args, IReadOnlyList<string> After, int Replicate, int? Level = null);
