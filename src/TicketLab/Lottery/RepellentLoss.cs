using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Lottery;

/// <summary>
/// The forced repellence of Maene, Li & Moens 2021 (section 4.2):
/// <c>J_r(θ) = λ_r/|Θ| Σ_{θ_r∈Θ} cos²(θ⊙m, θ_r⊙m)</c>, added to the loss of a level, over the
/// trained networks Θ of earlier levels on the level's mask m. λ_r &gt; 0 pushes the level's
/// weights away from the directions of the earlier optima (λ_r = 2 in the paper); λ_r &lt; 0 pulls
/// them towards those directions (λ_r = -1). Squared cosines make the loss blind to sign, as the paper's is.
/// </summary>
public sealed class RepellentLoss : ILossTerm, IDisposable
{
    private readonly Tensor[] weights;
    private readonly Tensor unitReferences;
    private readonly double lambda;

    private RepellentLoss(Tensor[] weights, Tensor unitReferences, double lambda)
    {
        this.weights = weights;
        this.unitReferences = unitReferences;
        this.lambda = lambda;
    }

    /// <param name="references">The earlier networks' states (at least the mask's tensors).</param>
    public static RepellentLoss Create(TicketModel model, Mask mask, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> references, double lambda)
    {
        if (references.Count == 0) throw new ArgumentException("The repellent loss needs at least one earlier network.", nameof(references));
        mask.CheckNames(model);
        var parameters = model.NamedParameterMap();
        var names = mask.Names.ToArray();
        var device = parameters[names[0]].device;
        using var scope = NewDisposeScope();
        var rows = references.Select((state, i) =>
        {
            var row = cat(names.Select(n => (state[n].detach().to(ScalarType.Float32) * mask[n]).flatten()).ToArray());
            double norm = row.norm().item<float>();
            if (!(norm > 0)) throw new InvalidDataException($"Earlier network {i + 1} of the repellent loss has no non-zero weight on this level's mask; the cosine with it is undefined.");
            return row / norm;
        }).ToArray();
        // θ⊙m is θ itself: the mask constraint keeps pruned weights at exactly zero.
        var unit = stack(rows).to(device).DetachFromDisposeScope();
        return new RepellentLoss(names.Select(n => parameters[n]).ToArray(), unit, lambda);
    }

    public Tensor Compute()
    {
        var theta = cat(weights.Select(w => w.flatten()).ToArray());
        var cosines = unitReferences.mv(theta) / theta.norm();
        return cosines.square().mean() * lambda;
    }

    public void Dispose() => unitReferences.Dispose();
}

/// <summary>Which earlier networks a level of a lottery run (or of one of its branches) is repelled from, read from the store.</summary>
public static class Repellence
{
    /// <summary>
    /// The earlier levels the loss of <paramref name="level"/> uses, by <see cref="LotteryHparams.RepelScope"/>;
    /// empty when the run has no repellent loss or the level has no earlier one.
    /// </summary>
    public static IReadOnlyList<int> EarlierLevels(LotteryHparams hparams, int level) =>
        hparams.RepelLambda == 0 || level == 0 ? []
        : hparams.RepelScope == RepelScope.Previous ? [level - 1]
        : Enumerable.Range(0, level).ToArray();

    /// <summary>
    /// The loss term for a level, its earlier networks' trained weights read from <paramref name="runAt"/>
    /// (the main runs for IMP; a branch's own runs, level 0 being the dense network, for a branch),
    /// and a record of them for the run's hparams.json. Null when the run has no repellent loss.
    /// </summary>
    public static (Func<TicketModel, ILossTerm> Term, JsonObject Record)? For(LotteryDesc desc, int level, Mask mask, Func<int, RunFolder> runAt)
    {
        var levels = EarlierLevels(desc.Lottery, level);
        if (levels.Count == 0) return null;
        var folders = levels.Select(runAt).ToArray();
        foreach (var (folder, earlier) in folders.Zip(levels))
        {
            if (TrainingSummary.Read(folder) is not { } summary)
                throw new InvalidDataException($"{folder.Path}: level {earlier} has not finished, and the repellent loss of level {level} (--repel-lambda {desc.Lottery.RepelLambda}) needs its trained weights; train the levels in order.");
            summary.RequireConverged($"Level {earlier}, which the repellent loss of level {level} uses,");
        }
        var record = new JsonObject
        {
            ["lambda"] = desc.Lottery.RepelLambda,
            ["levels"] = new JsonArray(levels.Select(l => (JsonNode)l).ToArray()),
            ["runs"] = new JsonArray(folders.Select(f => (JsonNode)Path.GetRelativePath(Path.GetDirectoryName(Path.GetDirectoryName(f.Path)!)!, f.Path)).ToArray()),
        };
        return (model =>
        {
            var states = folders.Select(f => f.LoadTensors(f.FinalModelPath)).ToArray();
            try
            {
                return RepellentLoss.Create(model, mask, states, desc.Lottery.RepelLambda);
            }
            finally
            {
                foreach (var t in states.SelectMany(s => s.Values)) t.Dispose();
            }
        }, record);
    }
}
