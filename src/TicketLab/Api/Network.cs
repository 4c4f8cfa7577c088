using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab;

/// <summary>
/// A network in memory, as the in-memory API (<see cref="Lab"/>) returns it: its recipe and seed,
/// its weights, the mask it was trained under, the states kept for rewinding, and how it did. It
/// owns its tensors; dispose it when done.
/// </summary>
public sealed class Network : IDisposable
{
    private readonly Dictionary<string, Tensor> weights;
    private readonly Dictionary<long, Dictionary<string, Tensor>> kept;

    internal Network(TrainingDesc recipe, int seed, InputSpec input, int iterationsPerEpoch, Dictionary<string, Tensor> weights, Mask? mask,
        Dictionary<long, Dictionary<string, Tensor>> kept, IReadOnlyList<MetricRow> metrics, double testAccuracy, Divergence? divergence)
    {
        Recipe = recipe;
        Seed = seed;
        Input = input;
        IterationsPerEpoch = iterationsPerEpoch;
        this.weights = weights;
        Mask = mask;
        this.kept = kept;
        Metrics = metrics;
        TestAccuracy = testAccuracy;
        Divergence = divergence;
    }

    public TrainingDesc Recipe { get; }
    /// <summary>The replicate seed: model initialization and data order unless the recipe sets them.</summary>
    public int Seed { get; }
    public int IterationsPerEpoch { get; }
    /// <summary>The shape of the inputs and the number of classes of the recipe's dataset.</summary>
    public InputSpec Input { get; }
    /// <summary>The final weights (a state dict: parameters and buffers by name).</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => weights;
    /// <summary>The mask the network was trained under (null: dense). Owned by the caller, not disposed here.</summary>
    public Mask? Mask { get; }
    /// <summary>test_loss and test_accuracy (and train_* when asked) at each evaluation, by iteration.</summary>
    public IReadOnlyList<MetricRow> Metrics { get; }
    /// <summary>Test accuracy at the end of training (NaN if training diverged).</summary>
    public double TestAccuracy { get; }
    public Divergence? Divergence { get; }

    /// <summary>The weights at a step kept during training (<c>keep:</c> of <see cref="Lab.Train"/>; the starting step is always kept).</summary>
    public IReadOnlyDictionary<string, Tensor> StateAt(StepSpec step)
    {
        long iteration = step.ToStep(IterationsPerEpoch).Iteration;
        return kept.TryGetValue(iteration, out var state) ? state
            : throw new ArgumentException($"step {step} (iteration {iteration}) was not kept; kept: {string.Join(", ", kept.Keys.Order().Select(i => $"{i}it"))}. Pass it in keep: when training.");
    }

    /// <summary>A model of the recipe's architecture holding these weights (the caller disposes it).</summary>
    public TicketModel ToModel(Device? device = null)
    {
        var model = ModelRegistry.Create(Recipe.Model, Input, 0);
        ModelState.Copy(model, weights, "network");
        if (device is not null) model.to(device);
        return model;
    }

    /// <summary>Writes the final weights as a safetensors file, as the store's <c>models/*.bin</c>.</summary>
    public void Save(string path) => TensorFile.Save(path, weights.Select(p => (p.Key, p.Value)));

    public void Dispose()
    {
        foreach (var t in weights.Values.Concat(kept.Values.SelectMany(s => s.Values))) t.Dispose();
    }
}
