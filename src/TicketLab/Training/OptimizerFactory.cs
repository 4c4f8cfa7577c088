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

    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
