using System.CommandLine;
using System.CommandLine.Parsing;
using TicketLab.Hyperparameters;

namespace TicketLab.Cli.Binding;

/// <summary>
/// Turns every field of a hyperparameter bundle into a command-line option, and reads the
/// bundle back from a parse result: values not given on the command line keep the defaults
/// (those of the preset, if one was named). Help shows those defaults.
/// </summary>
public class HparamOptionSet
{
    private readonly List<(HparamField Field, Option Option)> options = [];

    public HparamOptionSet(Type type, object defaults, string? heading = null)
    {
        DefaultValues = defaults;
        foreach (var field in HparamField.Of(type))
        {
            string choices = field.Choices.Any() ? $" One of: {string.Join(", ", field.Choices)}." : "";
            // An unset optional value's default is told by its description ("default: the replicate number").
            var value = field.Get(defaults);
            string description = value is null ? $"{field.Description}{choices}" : $"{field.Description}{choices} [default: {field.Format(value)}]";
            if (heading is not null) description = $"({heading}) {description}";
            Option option = field.IsBoolean
                ? new Option<bool>(field.Flag) { Description = description, Arity = ArgumentArity.ZeroOrOne }
                : new Option<string>(field.Flag) { Description = description, HelpName = field.Name.ToUpperInvariant() };
            options.Add((field, option));
        }
    }

    public object DefaultValues { get; }

    public IEnumerable<Option> Options => options.Select(o => o.Option);

    public void AddTo(Command command)
    {
        foreach (var option in Options) command.Options.Add(option);
    }

    /// <summary>The defaults with every option given on the command line applied. Throws <see cref="HparamException"/>.</summary>
    public object ReadObject(ParseResult result)
    {
        var bundle = DefaultValues;
        foreach (var (field, option) in options)
        {
            if (result.GetResult(option) is not OptionResult { Implicit: false }) continue;
            object? value = option switch
            {
                Option<bool> flag => result.GetValue(flag),
                Option<string> text => field.Parse(result.GetValue(text) ?? ""),
                _ => throw new InvalidOperationException(),
            };
            bundle = field.With(bundle, value);
        }
        return bundle;
    }

    /// <summary>Whether the user gave this field's flag.</summary>
    public bool IsGiven(ParseResult result, string propertyName) =>
        options.Any(o => o.Field.Property.Name == propertyName && result.GetResult(o.Option) is OptionResult { Implicit: false });
}

/// <summary>Typed form of <see cref="HparamOptionSet"/>.</summary>
public sealed class HparamOptions<T>(T defaults, string? heading = null) : HparamOptionSet(typeof(T), defaults, heading)
    where T : class, IHparams
{
    public T Read(ParseResult result) => (T)ReadObject(result);
}
