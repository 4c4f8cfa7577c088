using TicketLab.Hyperparameters;
using TorchSharp;
using TorchSharp.Modules;

namespace TicketLab.Training;

public static class OptimizerFactory
{
    /// <param name="fused">Adam in one pass per tensor (<see cref="FusedAdam"/>): for a stack's large tensors; lone runs keep TorchSharp's Adam, bit for bit.</param>
    public static OptimizerHelper Create(TrainingHparams hparams, IEnumerable<Parameter> parameters, bool fused = false) => hparams.OptimizerName switch
    {
        OptimizerName.Sgd => Sgd(hparams, parameters.ToArray()),
        OptimizerName.Adam when fused => new FusedAdam(parameters, hparams.Lr, hparams.WeightDecay),
        OptimizerName.Adam => torch.optim.Adam(parameters, hparams.Lr, weight_decay: hparams.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(hparams), hparams.OptimizerName, "unknown optimizer"),
    };

    /// <summary>
    /// TorchSharp's SGD; on a GPU it updates all parameters at once (<see cref="FlatSgd"/>: same
    /// values, five kernels a step instead of four per parameter). On CPU the per-parameter loop
    /// stays: there the launches cost next to nothing and the flat step's gradient copy made
    /// VGG-16's step 2-3% slower (LeNet and ResNet-20 unchanged).
    /// </summary>
    private static FlatSgd Sgd(TrainingHparams hparams, Parameter[] parameters) =>
        new(parameters, hparams.Lr, hparams.Momentum, hparams.WeightDecay, hparams.NesterovMomentum,
            flatten: parameters.Length > 0 && parameters[0].device_type == DeviceType.CUDA);

    /// <summary>
    /// Drops the gradients before a step (PyTorch's <c>zero_grad(set_to_none=True)</c>, its default
    /// since 2.0): backward then hands each parameter its new gradient instead of adding it into a
    /// zeroed buffer, a fill and an addition fewer per parameter and step, with the same values.
    /// </summary>
    public static void ClearGradients(OptimizerHelper optimizer)
    {
        foreach (var parameter in optimizer.parameters()) parameter.grad = null;
    }

    /// <summary>The optimizer's state in TorchSharp's format (SGD's for <see cref="FlatSgd"/>).</summary>
    public static void SaveState(OptimizerHelper optimizer, BinaryWriter writer)
    {
        if (optimizer is FlatSgd flat) flat.SaveSgdState(writer);
        else optimizer.save_state_dict(writer);
    }

    public static void LoadState(OptimizerHelper optimizer, BinaryReader reader)
    {
        if (optimizer is FlatSgd flat) flat.LoadSgdState(reader);
        else optimizer.load_state_dict(reader);
    }

    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
