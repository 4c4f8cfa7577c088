namespace TicketLab.Hyperparameters;

public sealed record ModelHparams : IHparams
{
    [Hparam("Model: lenet_300_100 (any lenet_N_M...), conv2, conv4, conv6, resnet_D[_W], vgg_11/13/16/19.")]
    public string ModelName { get; init; } = "lenet_300_100";

    [Hparam("Weight initializer: kaiming_normal, kaiming_uniform or xavier.")]
    public ModelInit ModelInit { get; init; } = ModelInit.KaimingNormal;

    [Hparam("Batch-norm scale initializer: uniform (U[0,1), as OpenLTH) or fixed (1).")]
    public BatchnormInit BatchnormInit { get; init; } = BatchnormInit.Uniform;

    [Hparam("Seed of the weight initialization (default: the replicate number).")]
    public int? ModelInitSeed { get; init; }

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelName)) throw new HparamException("--model-name", "must not be empty.");
    }
}
