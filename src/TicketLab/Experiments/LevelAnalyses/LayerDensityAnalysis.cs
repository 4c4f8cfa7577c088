using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Experiments;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Reporting;
using static TorchSharp.torch;

namespace TicketLab.Experiments.LevelAnalyses;

public sealed record LayerDensityHparams : IHparams
{
    [Hparam("Also compare the magnitudes of surviving and pruned weights at the rewind step (Zhou et al. 2019: survivors start large).")]
    public bool Magnitudes { get; init; }

    public void Validate() { }
}

/// <summary>One prunable tensor at a level: how much of it survives, and how large its weights were at the rewind step.</summary>
public sealed record TensorDensity(string Tensor, long Total, long Remaining, double? SurvivorMeanAbs, double? PrunedMeanAbs)
{
    public double Density => (double)Remaining / Total;
}

public sealed record LayerDensity(IReadOnlyList<TensorDensity> Tensors) : IStoredResult<LayerDensity>
{
    public JsonObject ToJson() => new()
    {
        ["tensors"] = new JsonArray(Tensors.Select(t => (JsonNode)new JsonObject
        {
            ["tensor"] = t.Tensor, ["total"] = t.Total, ["remaining"] = t.Remaining, ["density"] = t.Density,
            ["survivor_mean_abs_at_rewind"] = t.SurvivorMeanAbs, ["pruned_mean_abs_at_rewind"] = t.PrunedMeanAbs,
        }).ToArray()),
    };

    public static LayerDensity FromJson(JsonNode json) => new(json["tensors"]!.AsArray().Select(t => new TensorDensity(
        (string)t!["tensor"]!, (long)t["total"]!, (long)t["remaining"]!,
        (double?)t["survivor_mean_abs_at_rewind"], (double?)t["pruned_mean_abs_at_rewind"])).ToArray());
}

/// <summary>
/// Where a ticket keeps its weights: the fraction of each prunable tensor that survives at a level
/// (global pruning leaves layers at very different densities), and optionally whether the survivors
/// were already the large weights at the rewind step.
/// </summary>
public sealed class LayerDensityAnalysis : LevelAnalysis<LayerDensityHparams, LayerDensity>
{
    public override string Name => "layer_density";
    public override string Description => "Fraction of each prunable tensor that survives at a level; with --magnitudes, mean |w| at the rewind step of survivors vs pruned weights";

    protected override LayerDensity Analyze(LevelAnalysisJob job, LayerDensityHparams hparams)
    {
        using var mask = LotteryRunner.MaskOf(job.Layout, job.Level, job.Lottery, job.Context);
        var rewind = hparams.Magnitudes ? LotteryRunner.RewindState(job.Layout, job.Lottery, job.Context) : null;
        try
        {
            return new LayerDensity(mask.Names.Order(StringComparer.Ordinal).Select(name =>
            {
                long remaining = mask.Remaining(name), total = mask.Total(name);
                double? survivors = null, pruned = null;
                if (rewind is not null)
                {
                    using var scope = NewDisposeScope();
                    var magnitude = rewind[name].abs();
                    var kept = mask[name].to_type(ScalarType.Bool);
                    survivors = remaining > 0 ? magnitude.masked_select(kept).mean().item<float>() : null;
                    pruned = remaining < total ? magnitude.masked_select(kept.logical_not()).mean().item<float>() : null;
                }
                return new TensorDensity(name, total, remaining, survivors, pruned);
            }).ToArray());
        }
        finally
        {
            foreach (var t in rewind?.Values.AsEnumerable() ?? []) t.Dispose();
        }
    }

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<LayerDensity>> results, LayerDensityHparams hparams)
    {
        static string F(double? v) => v?.ToString("G4", CultureInfo.InvariantCulture) ?? "-";
        var rows = results.SelectMany(r => r.Result.Tensors.Select(t => (IReadOnlyList<string>)[
            r.Replicate.ToString(CultureInfo.InvariantCulture), r.Level.ToString(CultureInfo.InvariantCulture), t.Tensor,
            $"{t.Remaining}/{t.Total}", (100 * t.Density).ToString("F1", CultureInfo.InvariantCulture),
            .. hparams.Magnitudes ? new[] { F(t.SurvivorMeanAbs), F(t.PrunedMeanAbs) } : []])).ToArray();
        string[] header = ["replicate", "level", "tensor", "remaining", "% remaining", .. hparams.Magnitudes ? new[] { "mean |w| of survivors at rewind", "mean |w| of pruned at rewind" } : []];
        return [new ReportTable("Layer density: weights remaining per prunable tensor" + (hparams.Magnitudes ? ", and their magnitudes at the rewind step" : ""), header, rows)];
    }
}
