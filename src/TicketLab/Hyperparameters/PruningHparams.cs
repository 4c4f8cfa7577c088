namespace TicketLab.Hyperparameters;

public sealed record PruningHparams : IHparams
{
    [Hparam("Pruning strategy: sparse_global (smallest magnitudes across all prunable tensors) or sparse_layerwise (the same fraction in each).")]
    public string PruningStrategy { get; init; } = "sparse_global";

    [Hparam("Fraction of the remaining prunable weights removed at each level.")]
    public double PruningFraction { get; init; } = 0.2;

    [Hparam("Comma-separated prunable tensors left dense, e.g. fc.weight (default: the output layer for lenet and vgg, as OpenLTH; 'none' prunes all).")]
    public string? PruningLayersToIgnore { get; init; }

    [Hparam("Pruning fraction of the output layer when it is pruned (Frankle and Carbin used half the rate); default: --pruning-fraction.")]
    public double? PruningOutputLayerFraction { get; init; }

    public void Validate()
    {
        // Written so that NaN (every comparison false) fails too.
        if (!(PruningFraction > 0 && PruningFraction < 1))
            throw new HparamException("--pruning-fraction", $"must be in (0, 1), got {PruningFraction}.");
        if (PruningOutputLayerFraction is { } output && !(output >= 0 && output < 1))
            throw new HparamException("--pruning-output-layer-fraction", $"must be in [0, 1), got {PruningOutputLayerFraction}.");
    }
}

/// <summary>How IMP proceeds from level to level.</summary>
public sealed record LotteryHparams : IHparams
{
    [Hparam("Rewind surviving weights to their values at this step: 0it (initialization, the original lottery ticket), 500it, 2ep...")]
    public Foundations.StepSpec RewindStep { get; init; }

    [Hparam("Prune straight to this sparsity after level 0 (one-shot pruning) instead of by --pruning-fraction per level.")]
    public double? OneShotSparsity { get; init; }

    public void Validate()
    {
        if (OneShotSparsity is { } sparsity && !(sparsity > 0 && sparsity < 1))
            throw new HparamException("--one-shot-sparsity", $"must be in (0, 1), got {OneShotSparsity}.");
    }
}
