using System.Text.Json.Nodes;
using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Analysis;

/// <summary>The interpolation between two networks: a hyperparameter group like the others, so its flags and help come from here.</summary>
public sealed record InterpolationOptions : IHparams
{
    [Hparam("Interpolation coefficients, evenly spaced in [0,1], endpoints included.")]
    public int Points { get; init; } = 30;

    [Hparam("Evaluate each point on the first N test examples only (default: the whole test set).")]
    public int? TestExamples { get; init; }

    [Hparam("Also measure error and loss on this many training examples at each point.")]
    public int TrainExamples { get; init; }

    /// <summary>
    /// Re-estimate batch-norm statistics on this many training batches at each point (0: interpolate
    /// them). On by default: interpolated statistics do not match the interpolated weights, and the
    /// barrier they give is an artefact. Networks without batch norm are unaffected.
    /// </summary>
    [Hparam("Re-estimate batch-norm statistics on N training batches at each point (0: interpolate them; no effect without batch norm).")]
    public int BnRecalibrate { get; init; } = DefaultBnRecalibrationBatches;
    public const int DefaultBnRecalibrationBatches = 20;
    [System.Text.Json.Serialization.JsonIgnore] // not a flag: fixed by the recalibration's definition, named in ToJson
    public int BnRecalibrationBatchSize { get; init; } = 128;

    public void Validate()
    {
        if (Points < 2) throw new HparamException("--points", $"must be at least 2, got {Points}.");
        if (TrainExamples < 0) throw new HparamException("--train-examples", $"must not be negative, got {TrainExamples}.");
        if (BnRecalibrate < 0) throw new HparamException("--bn-recalibrate", $"must not be negative, got {BnRecalibrate}.");
        if (TestExamples is < 1) throw new HparamException("--test-examples", $"must be at least 1, got {TestExamples}.");
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<double> Alphas =>
        Points < 2 ? throw new ArgumentOutOfRangeException(nameof(Points), "at least 2 points are needed") :
        Enumerable.Range(0, Points).Select(i => (double)i / (Points - 1)).ToArray();

    public JsonObject ToJson() => new()
    {
        ["points"] = Points, ["train_examples"] = TrainExamples, ["test_examples"] = TestExamples,
        ["bn_recalibration_batches"] = BnRecalibrate, ["bn_recalibration_batch_size"] = BnRecalibrationBatchSize,
    };
}

public sealed record InterpolationPoint(double Alpha, double TestError, double TestLoss, double? TrainError, double? TrainLoss);

/// <summary>Error and loss along the line between two networks, and the barriers of Frankle et al. (2020).</summary>
public sealed record InterpolationCurve(IReadOnlyList<InterpolationPoint> Points)
{
    /// <summary>Frankle et al. (2020) call two networks linearly connected (training stable) under a 2-point error barrier.</summary>
    public const double StabilityThreshold = 0.02;

    /// <summary>Barrier thresholds are fractions of the test set (0.02, not 2): refuses others, naming the flag.</summary>
    public static void RequireThreshold(double value, string flag)
    {
        if (!(value > 0 && value < 1)) throw new HparamException(flag, $"must be a fraction in (0, 1), got {value}.");
    }

    /// <summary>max over a of error(a), minus the mean of the two endpoint errors.</summary>
    public double ErrorBarrier => Barrier(Points.Select(p => p.TestError).ToArray());
    public double LossBarrier => Barrier(Points.Select(p => p.TestLoss).ToArray());
    public double? TrainErrorBarrier => Points[0].TrainError is null ? null : Barrier(Points.Select(p => p.TrainError!.Value).ToArray());
    public double? TrainLossBarrier => Points[0].TrainLoss is null ? null : Barrier(Points.Select(p => p.TrainLoss!.Value).ToArray());

    /// <summary>
    /// The largest rise of the error above the straight line (chord) between the two endpoint
    /// errors. Unlike <see cref="ErrorBarrier"/> it is zero for a monotone path between endpoints
    /// of different quality (a ticket and the dense network restricted to its mask), so it is the
    /// measure to judge "same basin" by when the endpoints differ.
    /// </summary>
    public double ErrorExcessOverChord => ExcessOverChord(Points.Select(p => p.Alpha).ToArray(), Points.Select(p => p.TestError).ToArray());

    // Derived numbers (DataNumbers): rounded so JSON and results.csv hold 0.2451, not 0.24509999999999998.
    public static double Barrier(IReadOnlyList<double> values) => Foundations.DataNumbers.Derived(values.Max() - (values[0] + values[^1]) / 2);

    public static double ExcessOverChord(IReadOnlyList<double> alphas, IReadOnlyList<double> values) =>
        Foundations.DataNumbers.Derived(alphas.Select((a, i) => values[i] - ((1 - a) * values[0] + a * values[^1])).Max());

    public JsonObject ToJson() => new()
    {
        ["error_barrier"] = ErrorBarrier,
        ["error_excess_over_chord"] = ErrorExcessOverChord,
        ["loss_barrier"] = LossBarrier,
        ["train_error_barrier"] = TrainErrorBarrier,
        ["train_loss_barrier"] = TrainLossBarrier,
        ["points"] = new JsonArray(Points.Select(p => (JsonNode)new JsonObject
        {
            ["alpha"] = p.Alpha, ["test_error"] = p.TestError, ["test_loss"] = p.TestLoss,
            ["train_error"] = p.TrainError, ["train_loss"] = p.TrainLoss,
        }).ToArray()),
    };

    public static InterpolationCurve FromJson(JsonNode json) => new(json["points"]!.AsArray().Select(p => new InterpolationPoint(
        (double)p!["alpha"]!, (double)p["test_error"]!, (double)p["test_loss"]!, (double?)p["train_error"], (double?)p["train_loss"])).ToArray());
}

/// <summary>
/// Evaluates the network at (1 - a) w0 + a w1 for a grid of a. The model's own tensors are
/// overwritten in place at each point (no new allocations); a mask, when given, keeps pruned
/// weights at zero; batch-norm statistics are interpolated, or re-estimated on training batches.
/// </summary>
public static class Interpolation
{
    public static InterpolationCurve Run(TicketModel model, IReadOnlyDictionary<string, Tensor> w0, IReadOnlyDictionary<string, Tensor> w1,
        Mask? mask, ImageDataset test, ImageDataset? train, InterpolationOptions options)
    {
        var state = model.state_dict();
        foreach (var name in state.Keys)
            if (!w0.ContainsKey(name) || !w1.ContainsKey(name))
                throw new InvalidDataException($"Interpolation endpoints do not match the model: '{name}' is missing.");
        var device = state.Values.First().device;
        var start = state.ToDictionary(p => p.Key, p => w0[p.Key].to(device).DetachFromDisposeScope());
        var end = state.ToDictionary(p => p.Key, p => w1[p.Key].to(device).DetachFromDisposeScope());
        var masks = mask?.Names.ToDictionary(n => n, n => mask[n].to(device).DetachFromDisposeScope());
        try
        {
            var points = new List<InterpolationPoint>();
            foreach (double alpha in options.Alphas)
            {
                SetInterpolated(state, start, end, masks, alpha);
                if (options.BnRecalibrate > 0 && train is not null)
                    BatchNormRecalibration.Run(model, train, options.BnRecalibrate, options.BnRecalibrationBatchSize);
                var testResult = Evaluator.Evaluate(model, test, limit: options.TestExamples);
                EvaluationResult? trainResult = options.TrainExamples > 0 && train is not null
                    ? Evaluator.Evaluate(model, train, limit: options.TrainExamples) : null;
                points.Add(new InterpolationPoint(alpha, Foundations.DataNumbers.Derived(1 - testResult.Accuracy), testResult.Loss,
                    trainResult is { } t ? Foundations.DataNumbers.Derived(1 - t.Accuracy) : null, trainResult?.Loss));
            }
            return new InterpolationCurve(points);
        }
        finally
        {
            foreach (var t in start.Values.Concat(end.Values).Concat(masks?.Values.AsEnumerable() ?? [])) t.Dispose();
        }
    }

    /// <summary>Writes (1 - a) w0 + a w1 into the model's tensors; integer buffers (BN step counters) take w0's.</summary>
    public static void SetInterpolated(IReadOnlyDictionary<string, Tensor> target, IReadOnlyDictionary<string, Tensor> w0,
        IReadOnlyDictionary<string, Tensor> w1, IReadOnlyDictionary<string, Tensor>? masks, double alpha)
    {
        using var _ = no_grad();
        foreach (var (name, tensor) in target)
        {
            tensor.copy_(w0[name]);
            if (!tensor.is_floating_point()) continue;
            tensor.lerp_(w1[name], alpha);
            if (masks is not null && masks.TryGetValue(name, out var mask)) tensor.mul_(mask);
        }
    }
}

/// <summary>Re-estimates batch-norm running statistics on training batches; touches nothing else.</summary>
public static class BatchNormRecalibration
{
    public static void Run(nn.Module<Tensor, Tensor> model, ImageDataset train, int batches, int batchSize)
    {
        var norms = model.modules().OfType<TorchSharp.Modules.BatchNorm2d>().ToArray();
        if (norms.Length == 0) return;
        var momenta = norms.Select(n => n.momentum).ToArray();
        bool wasTraining = model.training;
        try
        {
            foreach (var bn in norms)
            {
                bn.reset_running_stats();
                bn.momentum = null; // cumulative average over the recalibration batches
            }
            model.train();
            using var _ = no_grad();
            for (int b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                long start = (long)b * batchSize % Math.Max(1, train.Count - batchSize + 1);
                model.forward(train.Images.narrow(0, start, Math.Min(batchSize, train.Count)));
            }
        }
        finally
        {
            for (int i = 0; i < norms.Length; i++) norms[i].momentum = momenta[i];
            model.train(wasTraining);
        }
    }
}
