namespace TicketLab.Hyperparameters;

public sealed record DatasetHparams : IHparams
{
    [Hparam("Dataset: mnist, fashion_mnist, cifar10 or cifar100.")]
    public string DatasetName { get; init; } = "fashion_mnist";

    [Hparam("Examples per minibatch.")]
    public int BatchSize { get; init; } = 128;

    [Hparam("Turn off training-set augmentation (random crop and flip on CIFAR).")]
    public bool DoNotAugment { get; init; }

    [Hparam("Train on the first N training examples only (for quick runs).")]
    public int? TrainSubset { get; init; }

    public void Validate()
    {
        if (BatchSize < 1) throw new HparamException("--batch-size", $"must be at least 1, got {BatchSize}.");
        if (TrainSubset is < 1) throw new HparamException("--train-subset", $"must be at least 1, got {TrainSubset}.");
    }
}
