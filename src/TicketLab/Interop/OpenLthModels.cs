using System.Globalization;
using System.Text.RegularExpressions;
using TicketLab.Models;

namespace TicketLab.Interop;

/// <summary>
/// How a TicketLab model family corresponds to OpenLTH's (facebookresearch/open_lth, <c>models/</c>):
/// OpenLTH's model name and the renaming of every state-dict key, both ways. Built per model, since
/// VGG's renaming depends on its plan.
/// <list type="bullet">
/// <item><c>lenet_N_M</c> = <c>mnist_lenet_N_M</c>: <c>fc_layers.i.{weight,bias}</c>, <c>fc.{weight,bias}</c> in both; same keys.</item>
/// <item><c>resnet_D[_W]</c> = <c>cifar_resnet_D[_W]</c>: <c>conv</c>, <c>bn</c>, <c>blocks.i.{conv1,bn1,conv2,bn2}</c>,
/// <c>blocks.i.shortcut.{0,1}</c> where the shape changes, <c>fc</c>; same keys (BN running statistics and
/// <c>num_batches_tracked</c> included).</item>
/// <item><c>vgg_D</c> = <c>cifar_vgg_D</c>: TicketLab flattens each conv module into three entries of
/// <c>layers</c> (conv, BN, ReLU) where OpenLTH nests one <c>ConvModule</c> (<c>layers.i.conv</c>, <c>layers.i.bn</c>);
/// max pools are one entry in both. So <c>layers.0.weight</c> is <c>layers.0.conv.weight</c>, <c>layers.1.running_mean</c>
/// is <c>layers.0.bn.running_mean</c>, <c>layers.4.weight</c> (after the first pool in vgg_11) is <c>layers.2.conv.weight</c>.</item>
/// <item><c>conv2/4/6</c>: OpenLTH has no such model; <see cref="For"/> returns null and TicketLab's own
/// (PyTorch-style) names are used.</item>
/// </list>
/// </summary>
public sealed partial class OpenLthModel
{
    private readonly Dictionary<string, string> toOpenLth;
    private readonly Dictionary<string, string> fromOpenLth;

    private OpenLthModel(string ticketLabName, string openLthName, Dictionary<string, string> modulePrefixes)
    {
        TicketLabName = ticketLabName;
        OpenLthName = openLthName;
        toOpenLth = modulePrefixes;
        fromOpenLth = modulePrefixes.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }

    /// <summary>TicketLab's model name, e.g. <c>vgg_16</c>.</summary>
    public string TicketLabName { get; }

    /// <summary>OpenLTH's model name, e.g. <c>cifar_vgg_16</c>.</summary>
    public string OpenLthName { get; }

    /// <summary>Whether any key is renamed (only VGG's are).</summary>
    public bool RenamesKeys => toOpenLth.Count > 0;

    [GeneratedRegex(@"^lenet_\d+(?:_\d+)*$")] private static partial Regex LenetName();
    [GeneratedRegex(@"^resnet_\d+(?:_\d+)?$")] private static partial Regex ResNetName();
    [GeneratedRegex(@"^vgg_(?<depth>\d+)$")] private static partial Regex VggName();
    [GeneratedRegex(@"^(?<prefix>mnist_|cifar_)(?<rest>(?:lenet|resnet|vgg)_.*)$")] private static partial Regex OpenLthNamePattern();

    /// <summary>The correspondence for a TicketLab model name, or null when OpenLTH has no such model (conv2/4/6).</summary>
    public static OpenLthModel? For(string ticketLabName)
    {
        if (LenetName().IsMatch(ticketLabName)) return new(ticketLabName, "mnist_" + ticketLabName, []);
        if (ResNetName().IsMatch(ticketLabName)) return new(ticketLabName, "cifar_" + ticketLabName, []);
        if (VggName().Match(ticketLabName) is { Success: true } vgg
            && int.TryParse(vgg.Groups["depth"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int depth) && CifarVgg.Depths.Contains(depth))
            return new(ticketLabName, "cifar_" + ticketLabName, VggPrefixes(CifarVgg.PlanOf(depth)));
        return null;
    }

    /// <summary>The correspondence for an OpenLTH model name (<c>mnist_lenet_300_100</c>, <c>cifar_resnet_20</c>, <c>cifar_vgg_16</c>).</summary>
    /// <exception cref="InvalidDataException">OpenLTH's model has no TicketLab counterpart (ImageNet ResNets, say).</exception>
    public static OpenLthModel FromOpenLthName(string openLthName)
    {
        var match = OpenLthNamePattern().Match(openLthName);
        string prefix = match.Groups["prefix"].Value, rest = match.Groups["rest"].Value;
        bool familyFits = match.Success && (prefix == "mnist_") == rest.StartsWith("lenet_", StringComparison.Ordinal);
        if (familyFits && ModelRegistry.IsValidName(rest) && For(rest) is { } model) return model;
        throw new InvalidDataException($"OpenLTH model '{openLthName}' has no TicketLab counterpart (known: mnist_lenet_N[_M...], cifar_resnet_D[_W], cifar_vgg_11/13/16/19).");
    }

    /// <summary>
    /// TicketLab's VGG <c>layers</c> entries per plan item: a pool is one entry (OpenLTH's too), a conv
    /// spec is three (conv, BN, ReLU) that OpenLTH nests as one ConvModule (<c>conv</c>, <c>bn</c>).
    /// </summary>
    private static Dictionary<string, string> VggPrefixes(IReadOnlyList<int> plan)
    {
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        int ticketLab = 0;
        for (int openLth = 0; openLth < plan.Count; openLth++)
        {
            if (plan[openLth] == CifarVgg.Pool)
            {
                ticketLab += 1;
                continue;
            }
            prefixes[$"layers.{ticketLab}."] = $"layers.{openLth}.conv.";
            prefixes[$"layers.{ticketLab + 1}."] = $"layers.{openLth}.bn.";
            ticketLab += 3;
        }
        return prefixes;
    }

    /// <summary>OpenLTH's key for a TicketLab state-dict key (<c>layers.1.running_var</c> becomes <c>layers.0.bn.running_var</c> in VGG).</summary>
    public string ToOpenLth(string key) => Rename(key, toOpenLth);

    /// <summary>TicketLab's key for an OpenLTH state-dict key.</summary>
    public string FromOpenLth(string key) => Rename(key, fromOpenLth);

    private static string Rename(string key, Dictionary<string, string> prefixes)
    {
        if (prefixes.Count == 0) return key;
        // A key is module path + "." + tensor name; module paths here are "layers.N" or "layers.N.conv".
        int last = key.LastIndexOf('.');
        string module = key[..(last + 1)];
        return prefixes.TryGetValue(module, out var renamed) ? renamed + key[(last + 1)..] : key;
    }
}
