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
    private readonly List<(System.Reflection.PropertyInfo Property, HparamOptionSet Options)> groups = [];

    /// <param name="groupDefaults">
    /// The values a nested group's flags start from, by the group's type (a retrain group starts from
    /// the lottery run's recipe); null or no answer: the group's own defaults.
    /// </param>
    public HparamOptionSet(Type type, object defaults, string? heading = null, string? prefix = null, Func<Type, object?>? groupDefaults = null)
    {
        DefaultValues = defaults;
        foreach (var (property, group) in HparamField.GroupsOf(type))
        {
            var start = property.GetValue(defaults) ?? groupDefaults?.Invoke(property.PropertyType) ?? Activator.CreateInstance(property.PropertyType)!;
            // A group without a prefix (an interpolation's settings inside an analysis's) reads as the owner's own flags.
            string? groupHeading = group.Prefix.Length == 0 ? null : $"{group.Prefix}: {group.Description}";
            groups.Add((property, new HparamOptionSet(property.PropertyType, start, groupHeading, group.Prefix)));
        }
        foreach (var field in HparamField.Of(type, prefix))
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

    public IEnumerable<Option> Options => options.Select(o => o.Option).Concat(groups.SelectMany(g => g.Options.Options));

    public void AddTo(Command command)
    {
        foreach (var option in Options) command.Options.Add(option);
    }

    /// <summary>The defaults with every option given on the command line applied. Throws <see cref="HparamException"/>.</summary>
    /// <param name="groupBase">
    /// The values a nested group starts from when any of its flags is given, from the group's type and
    /// the bundle's other fields as read (a retrain group starts from the lottery run's recipe, or the
    /// retrain preset's); null or no answer: the group's defaults.
    /// </param>
    public object ReadObject(ParseResult result, Func<Type, object, object?>? groupBase = null) => ReadObject(result, DefaultValues, groupBase);

    private object ReadObject(ParseResult result, object start, Func<Type, object, object?>? groupBase)
    {
        var bundle = start;
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
        // Groups last, so that their starting values may depend on the fields read above (a retrain preset).
        foreach (var (property, group) in groups)
        {
            // A group none of whose flags is given stays as it was (null: "not given").
            if (!group.options.Any(o => result.GetResult(o.Option) is OptionResult { Implicit: false })) continue;
            var groupStart = property.GetValue(bundle) ?? groupBase?.Invoke(property.PropertyType, bundle) ?? group.DefaultValues;
            bundle = HparamField.WithProperty(bundle, property, group.ReadObject(result, groupStart, null));
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
