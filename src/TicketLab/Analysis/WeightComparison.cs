using System.Text.Json.Nodes;
using TicketLab.Data;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>How far apart two networks are, over the weights a mask keeps.</summary>
public sealed record WeightDistances(double L2Distance, double NormalizedL2Distance, double CosineSimilarity, double SignAgreement)
{
    public JsonObject ToJson() => new()
    {
        ["l2_distance"] = L2Distance, ["normalized_l2_distance"] = NormalizedL2Distance,
        ["cosine_similarity"] = CosineSimilarity, ["sign_agreement"] = SignAgreement,
    };

    /// <summary>
    /// Distances between <paramref name="a"/> and <paramref name="reference"/> over the positions
    /// <paramref name="mask"/> keeps in its tensors (the prunable weights). The normalized
    /// distance divides by the reference's norm over the same positions.
    /// </summary>
    public static WeightDistances Compute(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> reference, Mask mask)
    {
        using var scope = NewDisposeScope();
        var keep = cat(mask.Names.Select(n => mask[n].flatten()).ToArray()).to_type(ScalarType.Bool);
        var x = cat(mask.Names.Select(n => a[n].detach().cpu().flatten().to_type(ScalarType.Float64)).ToArray()).masked_select(keep);
        var y = cat(mask.Names.Select(n => reference[n].detach().cpu().flatten().to_type(ScalarType.Float64)).ToArray()).masked_select(keep);
        double distance = (x - y).norm().item<double>();
        double referenceNorm = y.norm().item<double>();
        double cosine = (x * y).sum().item<double>() / (x.norm().item<double>() * referenceNorm);
        double signs = x.sign().eq(y.sign()).to_type(ScalarType.Float64).mean().item<double>();
        return new WeightDistances(distance, distance / referenceNorm, cosine, signs);
    }
}

public static class Predictions
{
    /// <summary>Fraction of test examples on which the two networks predict different classes.</summary>
    public static double Disagreement(TicketModel model, IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b, ImageDataset test)
    {
        using var first = Classes(model, a, test);
        using var second = Classes(model, b, test);
        return first.ne(second).to_type(ScalarType.Float64).mean().item<double>();
    }

    private static Tensor Classes(TicketModel model, IReadOnlyDictionary<string, Tensor> state, ImageDataset test)
    {
        ModelState.Copy(model, state, "comparison");
        model.eval();
        using var _ = no_grad();
        var batches = new List<Tensor>();
        for (long start = 0; start < test.Count; start += Evaluator.DefaultBatchSize)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(test.Images.narrow(0, start, Math.Min(Evaluator.DefaultBatchSize, test.Count - start)));
            batches.Add(logits.argmax(1).cpu().MoveToOuterDisposeScope());
        }
        var all = cat(batches.ToArray());
        foreach (var t in batches) t.Dispose();
        return all;
    }
}
