using System.Text.Json.Nodes;
using TicketLab.Data;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>
/// How far apart two networks are, over the weights a mask keeps: L2 distance (also divided by
/// the reference's norm), cosine similarity, angular distance 2·angle/π (Maene et al. 2021) and
/// the fraction of those weights with the same sign.
/// </summary>
public sealed record WeightDistances(double L2Distance, double ReferenceNorm, double CosineSimilarity, double SignAgreement)
{
    public double NormalizedL2Distance => L2Distance / ReferenceNorm;
    public double AngularDistance => 2 * Math.Acos(Math.Clamp(CosineSimilarity, -1, 1)) / Math.PI;

    public JsonObject ToJson() => new()
    {
        ["l2_distance"] = L2Distance, ["reference_norm"] = ReferenceNorm, ["normalized_l2_distance"] = NormalizedL2Distance,
        ["cosine_similarity"] = CosineSimilarity, ["angular_distance"] = AngularDistance, ["sign_agreement"] = SignAgreement,
    };

    public static WeightDistances FromJson(JsonNode json) => new((double)json["l2_distance"]!, (double)json["reference_norm"]!,
        (double)json["cosine_similarity"]!, (double)json["sign_agreement"]!);

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
        return new WeightDistances(distance, referenceNorm, cosine, signs);
    }
}

public static class Predictions
{
    /// <summary>Fraction of test examples on which the two networks predict different classes.</summary>
    public static double Disagreement(TicketModel model, IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b, ImageDataset test) =>
        Compare(model, a, b, test).Disagreement;

    /// <summary>
    /// Prediction disagreement of two networks on the test set, and the accuracy of their
    /// ensemble (the class of highest mean softmax probability; Evci et al. 2020b).
    /// </summary>
    public static (double Disagreement, double EnsembleAccuracy) Compare(TicketModel model, IReadOnlyDictionary<string, Tensor> a,
        IReadOnlyDictionary<string, Tensor> b, ImageDataset test)
    {
        using var scope = NewDisposeScope();
        var first = Probabilities(model, a, test);
        var second = Probabilities(model, b, test);
        double disagreement = first.argmax(1).ne(second.argmax(1)).to_type(ScalarType.Float64).mean().item<double>();
        double ensemble = (first + second).argmax(1).eq(test.Labels.cpu()).to_type(ScalarType.Float64).mean().item<double>();
        return (disagreement, ensemble);
    }

    private static Tensor Probabilities(TicketModel model, IReadOnlyDictionary<string, Tensor> state, ImageDataset test)
    {
        ModelState.Copy(model, state, "comparison");
        model.eval();
        using var _ = no_grad();
        var batches = new List<Tensor>();
        for (long start = 0; start < test.Count; start += Evaluator.DefaultBatchSize)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(test.Images.narrow(0, start, Math.Min(Evaluator.DefaultBatchSize, test.Count - start)));
            batches.Add(nn.functional.softmax(logits, 1).cpu().MoveToOuterDisposeScope());
        }
        var all = cat(batches.ToArray());
        foreach (var t in batches) t.Dispose();
        return all;
    }
}
