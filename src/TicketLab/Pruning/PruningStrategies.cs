using TicketLab.Hyperparameters;
using TicketLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Pruning;

/// <summary>
/// What a pruning step may touch: the fraction of remaining weights to prune, tensors left
/// dense, and tensors with a rate of their own (Frankle and Carbin pruned the output layer at
/// half the rate).
/// </summary>
public sealed record PruningRates(double Fraction, IReadOnlySet<string> Ignored, IReadOnlyDictionary<string, double> Overrides,
    PruningCountRule CountRule = PruningCountRule.Exact)
{
    /// <summary>The rate of one tensor, or null when it is left alone.</summary>
    public double? For(string name) =>
        Ignored.Contains(name) ? null : Overrides.TryGetValue(name, out double rate) ? rate : Fraction;

    public bool HasOwnRate(string name) => !Ignored.Contains(name) && Overrides.ContainsKey(name);

    /// <summary>
    /// The rates of a level: per-kind fractions (convolution, fully-connected, output) where given,
    /// else <paramref name="fraction"/>. A per-kind fraction that would touch no tensor (the output
    /// layer left dense) is an error, never silently ignored.
    /// </summary>
    public static PruningRates From(PruningHparams hparams, TicketModel model, double fraction)
    {
        var ignored = IgnoredTensors(hparams, model);
        string output = $"{model.OutputLayerName}.weight";
        if (hparams.PruningOutputLayerFraction is not null && ignored.Contains(output))
            throw new HparamException("--pruning-output-layer-fraction",
                $"{output} is left dense ({(hparams.PruningLayersToIgnore is null ? $"the default for {model.ModelName}, as in OpenLTH" : "--pruning-layers-to-ignore")}), so its rate cannot apply. "
                + "Add --pruning-layers-to-ignore none to prune it at this rate, or drop the flag.");
        var parameters = model.NamedParameterMap();
        var overrides = new Dictionary<string, double>();
        foreach (var name in model.PrunableParameterNames.Where(n => !ignored.Contains(n)))
        {
            double? rate = name == output ? hparams.PruningOutputLayerFraction
                : parameters[name].dim() == 4 ? hparams.PruningConvFraction
                : hparams.PruningFcFraction;
            if (rate is { } r) overrides[name] = r;
        }
        return new PruningRates(fraction, ignored, overrides, hparams.PruningCountRule);
    }

    /// <summary>
    /// Refuses, before anything trains, rates that would prune a tensor (or the globally pruned
    /// tensors together) to nothing within <paramref name="levels"/> levels: a network without a
    /// layer's weights is disconnected, and every measure of it is meaningless.
    /// </summary>
    public void RequireWeightsLeft(TicketModel model, int levels, string flag)
    {
        var parameters = model.NamedParameterMap();
        long Left(long count, double rate)
        {
            for (int level = 0; level < levels && count > 0; level++) count -= MagnitudeRanking.CountToPrune(count, rate);
            return count;
        }
        foreach (var name in model.PrunableParameterNames.Where(HasOwnRate))
            if (Left(parameters[name].numel(), For(name)!.Value) == 0)
                throw new HparamException(flag, FormattableString.Invariant($"{For(name)} per level prunes every weight of {name} by level {levels}: the network would have no {name}. Choose a smaller rate or fewer levels."));
        var global = model.PrunableParameterNames.Where(n => For(n) is not null && !HasOwnRate(n)).ToArray();
        if (global.Length > 0 && Left(global.Sum(n => parameters[n].numel()), Fraction) == 0)
            throw new HparamException(flag, FormattableString.Invariant($"{Fraction} per level prunes every weight of {string.Join(", ", global)} by level {levels}: the network would have no weights left. Choose a smaller rate or fewer levels."));
    }

    /// <summary>One line per prunable tensor: its rate, or why it stays dense; printed in run banners.</summary>
    public string Describe(TicketModel model) => string.Concat(model.PrunableParameterNames.Select(n =>
        $"  {n,-28} {(For(n) is { } rate ? FormattableString.Invariant($"{rate:0.###} per level{(HasOwnRate(n) ? " (own rate, pruned on its own)" : "")}") : "left dense")}\n"));

    public static IReadOnlySet<string> IgnoredTensors(PruningHparams hparams, TicketModel model)
    {
        string? setting = hparams.PruningLayersToIgnore?.Trim();
        if (setting is null)
            return ModelRegistry.DefaultIgnoresOutputLayer(model.ModelName)
                ? new HashSet<string> { $"{model.OutputLayerName}.weight" }
                : new HashSet<string>();
        if (setting.Length == 0 || setting.Equals("none", StringComparison.OrdinalIgnoreCase)) return new HashSet<string>();
        var names = setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = names.Where(n => !model.PrunableParameterNames.Contains(n)).ToArray();
        if (unknown.Length > 0)
            throw new HparamException("--pruning-layers-to-ignore",
                $"{string.Join(", ", unknown)} is not a prunable tensor of this model. Prunable: {string.Join(", ", model.PrunableParameterNames)}.");
        return names;
    }
}

/// <summary>Maps (trained weights, current mask, rates) to the next mask.</summary>
public interface IPruningStrategy
{
    string Name { get; }
    string Description { get; }

    /// <param name="weights">Trained values of the prunable tensors.</param>
    /// <param name="current">The mask the weights were trained under.</param>
    Mask Prune(IReadOnlyDictionary<string, Tensor> weights, Mask current, PruningRates rates);
}

/// <summary>One pruning step as the recipe's pruning hyperparameters define it: the lottery runner's and the in-memory API's.</summary>
public static class Pruner
{
    /// <summary>The next mask: <paramref name="fraction"/> (default: the recipe's) of the weights <paramref name="current"/> keeps, pruned by the recipe's strategy.</summary>
    /// <param name="flag">The flag that set <paramref name="fraction"/>, named when the step would empty a tensor.</param>
    public static Mask Next(PruningHparams pruning, TicketModel model, IReadOnlyDictionary<string, Tensor> trained, Mask current, double? fraction = null,
        string flag = "--pruning-fraction")
    {
        pruning.Validate();
        var rates = PruningRates.From(pruning, model, fraction ?? pruning.PruningFraction);
        var next = PruningStrategyRegistry.Get(pruning.PruningStrategy).Prune(trained, current, rates);
        // Global pruning may empty one tensor while others keep weights: a disconnected network, refused.
        if (next.Names.FirstOrDefault(n => next.Remaining(n) == 0 && current.Remaining(n) > 0) is { } emptied)
        {
            next.Dispose();
            throw new HparamException(flag, FormattableString.Invariant(
                $"{fraction ?? pruning.PruningFraction} prunes every remaining weight of {emptied} ({current.Remaining(emptied)} before this level): the network would be disconnected. Choose a smaller rate or fewer levels."));
        }
        return next;
    }
}

public static class PruningStrategyRegistry
{
    private static readonly IPruningStrategy[] Strategies = [new SparseGlobalPruning(), new SparseLayerwisePruning()];

    public static IEnumerable<string> Names => Strategies.Select(s => s.Name);

    public static IPruningStrategy Get(string name) =>
        Strategies.FirstOrDefault(s => s.Name == name)
        ?? throw new HparamException("--pruning-strategy", $"unknown strategy '{name}'. Known: {string.Join(", ", Names)}.");
}

/// <summary>Shared mechanics: rank remaining weights by magnitude with deterministic tie-breaking.</summary>
internal static class MagnitudeRanking
{
    /// <summary>
    /// Flat indices (into <paramref name="magnitudes"/>) of the <paramref name="count"/> smallest
    /// entries among those where <paramref name="alive"/> is 1. Ties go to the lower index, so
    /// exactly <paramref name="count"/> entries are chosen and the choice is reproducible.
    /// </summary>
    public static Tensor Smallest(Tensor magnitudes, Tensor alive, long count)
    {
        var aliveIndices = alive.nonzero().flatten();
        var aliveMagnitudes = magnitudes.index_select(0, aliveIndices);
        var (_, order) = aliveMagnitudes.sort(stable: true);
        return aliveIndices.index_select(0, order.narrow(0, 0, count));
    }

    public static long CountToPrune(long remaining, double fraction) => (long)Math.Ceiling(fraction * remaining - 1e-9);
}

/// <summary>Prunes the given fraction of all remaining weights with the smallest magnitudes across every tensor at once.</summary>
public sealed class SparseGlobalPruning : IPruningStrategy
{
    public string Name => "sparse_global";
    public string Description => "smallest magnitudes across all prunable tensors at once";

    public Mask Prune(IReadOnlyDictionary<string, Tensor> weights, Mask current, PruningRates rates)
    {
        using var scope = NewDisposeScope();
        var result = current.Names.ToDictionary(n => n, n => current[n].clone());
        // Tensors with a rate of their own (the output layer) are pruned on their own.
        foreach (var name in current.Names.Where(rates.HasOwnRate))
            result[name] = SparseLayerwisePruning.PruneTensor(weights[name], current[name], rates.For(name)!.Value);

        var global = current.Names.Where(n => rates.For(n) is not null && !rates.HasOwnRate(n)).ToArray();
        if (global.Length > 0)
        {
            double fraction = rates.Fraction;
            var magnitudes = cat(global.Select(n => weights[n].detach().cpu().abs().flatten()).ToArray());
            var alive = cat(global.Select(n => current[n].flatten()).ToArray());
            long remaining = (long)alive.sum().item<float>();
            var newAlive = alive.clone();
            if (rates.CountRule == PruningCountRule.Openlth)
            {
                // OpenLTH counts the ignored layers' weights as remaining, then prunes everything at or
                // below the magnitude of rank n (0-based): n+1 weights plus ties.
                long count = MagnitudeRanking.CountToPrune(current.RemainingWeights, fraction);
                var aliveMagnitudes = magnitudes.masked_select(alive.to_type(ScalarType.Bool));
                if (count >= aliveMagnitudes.numel()) newAlive.zero_();
                else
                {
                    double threshold = aliveMagnitudes.sort().Values[count].item<float>();
                    newAlive.mul_(magnitudes.gt(threshold).to_type(newAlive.dtype));
                }
            }
            else
            {
                long count = MagnitudeRanking.CountToPrune(remaining, fraction);
                newAlive.index_fill_(0, MagnitudeRanking.Smallest(magnitudes, alive, count), 0);
            }
            long offset = 0;
            foreach (var name in global)
            {
                long size = current[name].numel();
                result[name] = newAlive.narrow(0, offset, size).reshape(current[name].shape).clone();
                offset += size;
            }
        }
        return new Mask(result);
    }
}

/// <summary>Prunes the given fraction of each tensor's remaining weights, smallest magnitudes first.</summary>
public sealed class SparseLayerwisePruning : IPruningStrategy
{
    public string Name => "sparse_layerwise";
    public string Description => "the same fraction of smallest magnitudes in each tensor";

    public Mask Prune(IReadOnlyDictionary<string, Tensor> weights, Mask current, PruningRates rates)
    {
        using var scope = NewDisposeScope();
        var result = current.Names.ToDictionary(n => n, n => rates.For(n) is { } f
            ? PruneTensor(weights[n], current[n], f)
            : current[n].clone());
        return new Mask(result);
    }

    internal static Tensor PruneTensor(Tensor weight, Tensor mask, double fraction)
    {
        var alive = mask.flatten();
        long remaining = (long)alive.sum().item<float>();
        long count = MagnitudeRanking.CountToPrune(remaining, fraction);
        var newAlive = alive.clone();
        newAlive.index_fill_(0, MagnitudeRanking.Smallest(weight.detach().cpu().abs().flatten(), alive, count), 0);
        return newAlive.reshape(mask.shape);
    }
}
