using TicketLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

public readonly record struct EvaluationResult(double Loss, double Accuracy, long Examples);

/// <summary>Mean cross-entropy and accuracy of a model over a whole dataset, in large batches, without gradients.</summary>
public static class Evaluator
{
    public const int DefaultBatchSize = 1000;

    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset dataset, int batchSize = DefaultBatchSize, long? limit = null)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            long count = Math.Min(dataset.Count, limit ?? long.MaxValue);
            double lossSum = 0;
            long correct = 0;
            for (long start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(batchSize, count - start);
                var images = dataset.Images.narrow(0, start, length);
                var labels = dataset.Labels.narrow(0, start, length);
                var logits = model.forward(images);
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(labels).sum().item<long>();
            }
            return new EvaluationResult(lossSum / count, (double)correct / count, count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
