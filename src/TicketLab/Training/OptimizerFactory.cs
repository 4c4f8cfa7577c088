using TicketLab.Hyperparameters;
using TorchSharp;
using TorchSharp.Modules;

namespace TicketLab.Training;

public static class OptimizerFactory
{
    public static OptimizerHelper Create(TrainingHparams hparams, IEnumerable<Parameter> parameters) => hparams.OptimizerName switch
    {
        OptimizerName.Sgd => torch.optim.SGD(parameters, hparams.Lr, momentum: hparams.Momentum,
            weight_decay: hparams.WeightDecay, nesterov: hparams.NesterovMomentum),
        OptimizerName.Adam => torch.optim.Adam(parameters, hparams.Lr, weight_decay: hparams.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(hparams), hparams.OptimizerName, "unknown optimizer"),
    };

    /// <summary>
    /// Drops the gradients before a step (PyTorch's <c>zero_grad(set_to_none=True)</c>, its default
    /// since 2.0): backward then hands each parameter its new gradient instead of adding it into a
    /// zeroed buffer, a fill and an addition fewer per parameter and step, with the same values.
    /// </summary>
    public static void ClearGradients(OptimizerHelper optimizer)
    {
        foreach (var parameter in optimizer.parameters()) parameter.grad = null;
    }

    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
