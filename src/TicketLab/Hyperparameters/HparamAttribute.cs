namespace TicketLab.Hyperparameters;

/// <summary>Marks a property of a hyperparameter bundle; the help text travels with the field.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class HparamAttribute(string description) : Attribute
{
    public string Description { get; } = description;
}

/// <summary>
/// Marks a property holding a whole hyperparameter bundle nested in another (OpenLTH's nested
/// hparams): its fields become flags with the prefix (<c>--retrain-lr</c>), and it is stored as a
/// nested object. Null means "not given": the owner decides what that stands for.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class HparamGroupAttribute(string prefix, string description) : Attribute
{
    public string Prefix { get; } = prefix;
    public string Description { get; } = description;
}

/// <summary>A record whose <see cref="HparamAttribute"/> properties are hyperparameters.</summary>
public interface IHparams
{
    /// <summary>Throws <see cref="HparamException"/> naming the flag when a value is out of range.</summary>
    void Validate();
}

/// <summary>A bad hyperparameter value; <see cref="Flag"/> is the command-line spelling.</summary>
public sealed class HparamException(string flag, string message) : Exception($"{flag}: {message}")
{
    public string Flag { get; } = flag;
}
