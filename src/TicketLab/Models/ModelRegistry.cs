using System.Globalization;
using System.Text.RegularExpressions;
using TicketLab.Hyperparameters;
using TorchSharp;

namespace TicketLab.Models;

/// <summary>
/// Turns a model name into a network. Each family owns a name pattern and a factory, so a new
/// family is one entry here, and an unknown name gets a message listing the valid forms.
/// </summary>
public static partial class ModelRegistry
{
    private sealed record Family(string Form, Regex Pattern, Func<Match, InputSpec, TicketModel> Create, bool IgnoresOutputLayer);

    private static readonly Family[] Families =
    [
        new("lenet_N[_M...]", LenetPattern(), (m, input) => new LeNet(
            m.Groups["hidden"].Value.Split('_').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(), input), true),
        new("conv2, conv4, conv6", ConvPattern(), (m, input) => new ConvNet(Int(m, "depth") / 2, input), false),
        new("resnet_D[_W] (D = 6n+2)", ResNetPattern(), (m, input) => new CifarResNet(
            Int(m, "depth"), m.Groups["width"].Success ? Int(m, "width") : 16, input), false),
        new("vgg_11, vgg_13, vgg_16, vgg_19", VggPattern(), (m, input) => new CifarVgg(Int(m, "depth"), input), true),
    ];

    [GeneratedRegex(@"^lenet_(?<hidden>\d+(?:_\d+)*)$")] private static partial Regex LenetPattern();
    [GeneratedRegex(@"^conv(?<depth>2|4|6)$")] private static partial Regex ConvPattern();
    [GeneratedRegex(@"^resnet_(?<depth>\d+)(?:_(?<width>\d+))?$")] private static partial Regex ResNetPattern();
    [GeneratedRegex(@"^vgg_(?<depth>\d+)$")] private static partial Regex VggPattern();

    private static int Int(Match m, string group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    public static IEnumerable<string> Forms => Families.Select(f => f.Form);

    private static (Family Family, Match Match) Find(string name)
    {
        foreach (var family in Families)
        {
            var match = family.Pattern.Match(name);
            if (match.Success) return (family, match);
        }
        throw new HparamException("--model-name", $"unknown model '{name}'. Valid forms: {string.Join("; ", Forms)}.");
    }

    public static bool IsValidName(string name) => Families.Any(f => f.Pattern.IsMatch(name));

    /// <summary>Throws <see cref="HparamException"/> listing the valid forms when the name fits none.</summary>
    public static void ValidateName(string name) => Find(name);

    /// <summary>Whether OpenLTH's default pruning leaves this family's output layer alone (lenet, vgg).</summary>
    public static bool DefaultIgnoresOutputLayer(string name) => Find(name).Family.IgnoresOutputLayer;

    /// <summary>
    /// Builds and initializes a model. The seed fixes every random draw of construction and
    /// initialization, so the same seed gives bit-identical weights.
    /// </summary>
    public static TicketModel Create(ModelHparams hparams, InputSpec input, int seed)
    {
        var (family, match) = Find(hparams.ModelName);
        lock (Families)
        {
            torch.random.manual_seed(seed);
            TicketModel model;
            try
            {
                model = family.Create(match, input);
            }
            catch (ArgumentException e)
            {
                throw new HparamException("--model-name", e.Message);
            }
            Initializers.Apply(model, hparams.ModelInit, hparams.BatchnormInit);
            model.ModelName = hparams.ModelName;
            return model;
        }
    }
}
