namespace TicketLab.Hyperparameters;

/// <summary>Marks a property of a hyperparameter bundle; the help text travels with the field.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class HparamAttribute(string description) : Attribute
{
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
