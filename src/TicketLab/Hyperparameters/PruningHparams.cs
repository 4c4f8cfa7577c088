namespace TicketLab.Hyperparameters;

/// <summary>How many weights a level prunes.</summary>
public enum PruningCountRule
{
    /// <summary>Exactly ceil(fraction x remaining) of the weights being pruned; ties broken by position.</summary>
    Exact,
    /// <summary>
    /// OpenLTH's sparse_global: n = ceil(fraction x remaining), where remaining counts the ignored
    /// layers too, then every weight whose magnitude is at most the (n+1)-th smallest is pruned
    /// (n+1 weights plus ties), so runs can be matched with OpenLTH's weight for weight.
    /// </summary>
    Openlth,
}

public sealed record PruningHparams : IHparams
{
    [Hparam("Pruning strategy: sparse_global (smallest magnitudes across all prunable tensors) or sparse_layerwise (the same fraction in each).")]
    public string PruningStrategy { get; init; } = "sparse_global";

    [Hparam("Fraction of the remaining prunable weights removed at each level.")]
    public double PruningFraction { get; init; } = 0.2;

    [Hparam("Comma-separated prunable tensors left dense, e.g. fc.weight (default: the output layer for lenet and vgg, as OpenLTH; 'none' prunes all).")]
    public string? PruningLayersToIgnore { get; init; }

    [Hparam("Pruning fraction of the output layer when it is pruned (Frankle and Carbin used half the rate); default: --pruning-fraction. An error when the output layer is left dense.")]
    public double? PruningOutputLayerFraction { get; init; }

    [Hparam("Pruning fraction of convolution weights (Frankle and Carbin: 0.1 for Conv-2/4, 0.15 for Conv-6); default: --pruning-fraction. Such tensors are pruned each on its own.")]
    public double? PruningConvFraction { get; init; }

    [Hparam("Pruning fraction of fully-connected weights other than the output layer (Frankle and Carbin: 0.2); default: --pruning-fraction. Such tensors are pruned each on its own.")]
    public double? PruningFcFraction { get; init; }

    [Hparam("How many weights a level prunes: exact (ceil(fraction x remaining), ties by position) or openlth (OpenLTH's rule, to match its runs weight for weight; sparse_global only).")]
    public PruningCountRule PruningCountRule { get; init; } = PruningCountRule.Exact;

    public void Validate()
    {
        // Written so that NaN (every comparison false) fails too.
        if (!(PruningFraction > 0 && PruningFraction < 1))
            throw new HparamException("--pruning-fraction", $"must be in (0, 1), got {PruningFraction}.");
        foreach (var (flag, value) in new[] { ("--pruning-output-layer-fraction", PruningOutputLayerFraction), ("--pruning-conv-fraction", PruningConvFraction), ("--pruning-fc-fraction", PruningFcFraction) })
            if (value is { } rate && !(rate >= 0 && rate < 1))
                throw new HparamException(flag, $"must be in [0, 1), got {rate}.");
        if (PruningCountRule == PruningCountRule.Openlth && (PruningStrategy != "sparse_global" || PruningConvFraction is not null || PruningFcFraction is not null || PruningOutputLayerFraction is not null))
            throw new HparamException("--pruning-count-rule", "openlth applies to sparse_global with one fraction for every pruned layer, as OpenLTH has; drop the per-kind fractions or use exact.");
    }
}

/// <summary>How IMP proceeds from level to level.</summary>
public sealed record LotteryHparams : IHparams
{
    [Hparam("Rewind surviving weights to their values at this step: 0it (initialization, the original lottery ticket), 500it, 2ep...")]
    public Foundations.StepSpec RewindStep { get; init; }

    [Hparam("Prune straight to this sparsity after level 0 (one-shot pruning) instead of by --pruning-fraction per level.")]
    public double? OneShotSparsity { get; init; }

    [Hparam("Data order of the levels: shared (every level trains on the data order of level 0, as OpenLTH) or per_level (level L draws its own order, as the rounds of Maene et al. 2021 do).")]
    public LevelDataOrder LevelDataOrder { get; init; } = LevelDataOrder.Shared;

    [Hparam("Weight of the repellent loss of Maene et al. 2021 (section 4.2): each level's training adds lambda/|R| x the sum of cos^2 between its weights and those of the earlier levels' trained networks R, on its mask; 2 repels, -1 attracts, 0 is plain IMP.")]
    public double RepelLambda { get; init; }

    [Hparam("Which earlier levels the repellent loss uses: all (every earlier level) or previous (the level just before; Maene et al. 2021, Fig. 17).")]
    public RepelScope RepelScope { get; init; } = RepelScope.All;

    public void Validate()
    {
        if (OneShotSparsity is { } sparsity && !(sparsity > 0 && sparsity < 1))
            throw new HparamException("--one-shot-sparsity", $"must be in (0, 1), got {OneShotSparsity}.");
        if (!double.IsFinite(RepelLambda))
            throw new HparamException("--repel-lambda", $"must be a finite number, got {RepelLambda}.");
        if (RepelScope != RepelScope.All && RepelLambda == 0)
            throw new HparamException("--repel-scope", "only applies with a non-zero --repel-lambda.");
        if (RepelLambda != 0 && OneShotSparsity is not null)
            throw new HparamException("--repel-lambda", "needs earlier pruned levels to repel from; one-shot pruning (--one-shot-sparsity) has only one.");
    }
}
