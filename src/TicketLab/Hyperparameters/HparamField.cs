using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using TicketLab.Foundations;

namespace TicketLab.Hyperparameters;

/// <summary>
/// One hyperparameter of a bundle, found by reflection: its JSON name, its flag, its help text,
/// and how to read it from command-line text. One generic routine serves every bundle, so a new
/// hyperparameter is one annotated property.
/// </summary>
public sealed class HparamField
{
    private HparamField(PropertyInfo property, string description, string? prefix = null)
    {
        Property = property;
        Description = description;
        Name = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
        Flag = "--" + (string.IsNullOrEmpty(prefix) ? "" : prefix + "-") + JsonNamingPolicy.KebabCaseLower.ConvertName(property.Name);
    }

    public PropertyInfo Property { get; }
    public string Description { get; }
    /// <summary>snake_case, as in hparams.json and OpenLTH.</summary>
    public string Name { get; }
    /// <summary>kebab-case command-line flag.</summary>
    public string Flag { get; }
    public Type ValueType => Property.PropertyType;
    public bool IsBoolean => ValueType == typeof(bool);

    public static IReadOnlyList<HparamField> Of(Type bundleType) =>
        bundleType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<HparamAttribute>()))
            .Where(p => p.Attribute is not null)
            .Select(p => new HparamField(p.Property, p.Attribute!.Description))
            .ToArray();

    public static IReadOnlyList<HparamField> Of<T>() where T : IHparams => Of(typeof(T));

    /// <summary>The fields of a bundle nested under <paramref name="prefix"/>: flags <c>--prefix-name</c>.</summary>
    public static IReadOnlyList<HparamField> Of(Type bundleType, string? prefix) =>
        prefix is null ? Of(bundleType) : Of(bundleType).Select(f => new HparamField(f.Property, f.Description, prefix)).ToArray();

    /// <summary>The nested bundles of a bundle (<see cref="HparamGroupAttribute"/> properties).</summary>
    public static IReadOnlyList<(PropertyInfo Property, HparamGroupAttribute Group)> GroupsOf(Type bundleType) =>
        bundleType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Group: p.GetCustomAttribute<HparamGroupAttribute>()))
            .Where(p => p.Group is not null)
            .Select(p => (p.Property, p.Group!))
            .ToArray();

    /// <summary>A copy of a record with one property replaced (for nested groups).</summary>
    public static T WithProperty<T>(T bundle, PropertyInfo property, object? value) where T : class
    {
        var clone = (T)bundle.GetType().GetMethod("<Clone>$")!.Invoke(bundle, null)!;
        property.SetValue(clone, value);
        return clone;
    }

    public object? Get(object bundle) => Property.GetValue(bundle);

    /// <summary>A copy of the record with this field replaced.</summary>
    public T With<T>(T bundle, object? value) where T : class
    {
        var clone = (T)bundle.GetType().GetMethod("<Clone>$")!.Invoke(bundle, null)!;
        Property.SetValue(clone, value);
        return clone;
    }

    public string Format(object? value) => value switch
    {
        // An unset optional value takes a default that depends on the run (the replicate, the model):
        // say so rather than print "(none)", which reads as "nothing is used".
        null => "(default)",
        StepSpec[] steps => steps.Length == 0 ? "(none)" : string.Join(",", steps),
        Enum e => JsonNamingPolicy.SnakeCaseLower.ConvertName(e.ToString()),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Reads a command-line value; errors name the flag and what was expected.</summary>
    public object? Parse(string text)
    {
        var type = Nullable.GetUnderlyingType(ValueType) ?? ValueType;
        try
        {
            if (Nullable.GetUnderlyingType(ValueType) is not null && text.Equals("none", StringComparison.OrdinalIgnoreCase))
                return null;
            if (type == typeof(string)) return text;
            if (type == typeof(int)) return int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (type == typeof(double))
            {
                double value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                // NaN and infinities would train on nothing and cannot be stored in JSON.
                return double.IsFinite(value) ? value : throw new HparamException(Flag, $"'{text}' is not a finite number.");
            }
            if (type == typeof(bool)) return ParseBool(text);
            if (type == typeof(StepSpec)) return StepSpec.Parse(text);
            if (type == typeof(StepSpec[]))
                return text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? Array.Empty<StepSpec>() : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(StepSpec.Parse).ToArray();
            if (type.IsEnum) return ParseEnum(type, text);
        }
        catch (FormatException e)
        {
            // Messages that quote the value already (a step's) are not wrapped in another quote of it.
            throw new HparamException(Flag, e.Message.Contains($"'{text}'", StringComparison.Ordinal) ? e.Message : $"'{text}' is not valid: {e.Message}");
        }
        catch (OverflowException)
        {
            throw new HparamException(Flag, $"'{text}' is out of range.");
        }
        throw new NotSupportedException($"Hyperparameter type {type} of {Flag} has no parser.");
    }

    private object ParseEnum(Type type, string text)
    {
        string wanted = text.Replace("-", "_").Replace("_", "");
        foreach (var value in Enum.GetValues(type))
            if (string.Equals(value.ToString(), wanted, StringComparison.OrdinalIgnoreCase)) return value;
        var allowed = Enum.GetValues(type).Cast<Enum>().Select(v => Format(v));
        throw new HparamException(Flag, $"'{text}' is not one of {string.Join(", ", allowed)}.");
    }

    private static bool ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new FormatException("expected true or false"),
    };

    /// <summary>Allowed values, for help text.</summary>
    public IEnumerable<string> Choices =>
        (Nullable.GetUnderlyingType(ValueType) ?? ValueType) is { IsEnum: true } e
            ? Enum.GetValues(e).Cast<Enum>().Select(v => Format(v))
            : [];
}

/// <summary>Serialization of bundles: full JSON, and the non-default subset that names results.</summary>
public static class HparamJson
{
    // The resolvers of every folder's (and every assembly's) source-generated hyperparameter metadata.
    private static readonly List<IJsonTypeInfoResolver> Resolvers = [HparamJsonContext.Default];
    private static readonly Lock Gate = new();
    private static JsonSerializerOptions? options;

    /// <summary>
    /// Makes records outside this folder serializable: each folder (and each assembly that adds a kind,
    /// an analysis or a branch) registers its <see cref="JsonSerializerContext"/> listing its records,
    /// once, before use (a module initializer does it). Reflection-based JSON stays off, as in trimmed and file-based apps.
    /// </summary>
    public static void AddResolver(IJsonTypeInfoResolver resolver)
    {
        lock (Gate)
        {
            if (Resolvers.Contains(resolver)) return;
            Resolvers.Add(resolver);
            options = null; // options freeze on first use: the next use builds them anew
        }
    }

    /// <summary>
    /// snake_case names and enum values, unset optional values left out, steps as "160ep". Metadata
    /// comes from the registered contexts, never from reflection; enums are written by name (a test checks).
    /// </summary>
    private static JsonSerializerOptions Options
    {
        get
        {
            lock (Gate)
                return options ??= new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
                    TypeInfoResolver = JsonTypeInfoResolver.Combine([.. Resolvers]),
                    Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new StepSpecJsonConverter() },
                };
        }
    }

    /// <summary>Whether a record can be written and read (its folder or assembly registered its metadata).</summary>
    public static bool IsSerializable(Type type) => Options.TryGetTypeInfo(type, out _);

    public static JsonObject ToJson(object bundle) =>
        JsonSerializer.SerializeToNode(bundle, Options.GetTypeInfo(bundle.GetType()))!.AsObject();

    public static T FromJson<T>(JsonNode node) =>
        node.Deserialize((JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T))) ?? throw new JsonException($"Empty {typeof(T).Name}.");

    /// <summary>Only the fields that differ from the record's defaults.</summary>
    public static JsonObject NonDefault(object bundle)
    {
        var defaults = ToJson(Activator.CreateInstance(bundle.GetType())!);
        var values = ToJson(bundle);
        return NonDefault(values, defaults);
    }

    // Field by field, nested bundles included: a new field at its default, even inside a group, keeps every name.
    private static JsonObject NonDefault(JsonObject values, JsonObject defaults)
    {
        var result = new JsonObject();
        foreach (var (key, value) in values)
        {
            defaults.TryGetPropertyValue(key, out var d);
            if (d is not null && JsonNode.DeepEquals(d, value)) continue;
            if (value is JsonObject nested && d is JsonObject nestedDefaults)
            {
                var differs = NonDefault(nested, nestedDefaults);
                if (differs.Count > 0) result[key] = differs;
                continue;
            }
            result[key] = value?.DeepClone();
        }
        return result;
    }

    public static string Describe(object bundle)
    {
        var text = new StringBuilder();
        foreach (var field in HparamField.Of(bundle.GetType()))
            text.AppendLine($"  {field.Name,-24} {field.Format(field.Get(bundle))}");
        foreach (var (property, group) in HparamField.GroupsOf(bundle.GetType()))
        {
            if (property.GetValue(bundle) is not { } nested) { text.AppendLine($"  {group.Prefix + ":",-24} (not given)"); continue; }
            foreach (var field in HparamField.Of(nested.GetType(), group.Prefix))
                text.AppendLine($"  {group.Prefix + "." + field.Name,-24} {field.Format(field.Get(nested))}");
        }
        return text.ToString();
    }
}
