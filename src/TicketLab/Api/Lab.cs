using TicketLab.Analysis;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab;

/// <summary>
/// The in-memory API, for scripts and notebooks: train a network with a recipe and get it back,
/// prune it to a mask (the recipe's global or layerwise rule), rewind it, retrain it under the mask,
/// interpolate and compare two networks. Nothing is written to disk. The store-backed runners (the
/// CLI) are built on the same pieces: <see cref="TrainingSetup"/>, <see cref="Pruner"/>,
/// <see cref="Interpolation"/>, <see cref="WeightDistances"/>.
/// </summary>
public sealed class Lab
{
    private readonly DataSource data;

    /// <param name="dataDir">Folder with the datasets (default: as the CLI looks for them: $TICKETLAB_DATA, then the user's and system folders).</param>
    public Lab(string? dataDir = null, Device? device = null, int? threads = null, CancellationToken cancellation = default)
    {
        data = new DataSource(dataDir);
        Device = device ?? CPU;
        Cancellation = cancellation;
        if (threads is { } t) set_num_threads(t >= 1 ? t : throw new ArgumentOutOfRangeException(nameof(threads), "at least 1 thread"));
    }

    public Device Device { get; }
    public CancellationToken Cancellation { get; }

    /// <summary>The recipe's training and test sets (loaded once, kept on the device).</summary>
    public (ImageDataset Train, ImageDataset Test) Data(TrainingDesc recipe) => data.Get(recipe.Dataset.DatasetName, recipe.Dataset.TrainSubset, Device);

    /// <summary>
    /// Trains a network with <paramref name="recipe"/> (seed: the replicate number, as in the store).
    /// With <paramref name="mask"/>, pruned weights stay zero; with <paramref name="start"/>, training
    /// starts from those weights at <paramref name="startStep"/> of the recipe (a rewound ticket).
    /// <paramref name="keep"/>: steps whose weights to keep for rewinding (the start is always kept).
    /// </summary>
    public Network Train(TrainingDesc recipe, int seed = 1, Mask? mask = null, IReadOnlyDictionary<string, Tensor>? start = null,
        StepSpec startStep = default, IEnumerable<StepSpec>? keep = null, bool evaluateEveryEpoch = true)
    {
        recipe.Validate();
        var (train, test) = Data(recipe);
        var trainingStart = new TrainingStart
        {
            InitialState = start,
            StartStep = startStep,
            Constraint = mask is null ? null : model => new MaskConstraint(model, mask),
        };
        using var setup = TrainingSetup.Create(recipe, seed, train, Device, trainingStart);
        var metrics = new MetricsLog("(in memory)"); // never opened: rows stay in memory
        var keepSteps = (keep ?? []).Select(s => s.ToStep(setup.IterationsPerEpoch)).Append(setup.Origin);
        var kept = new KeepStatesCallback(When.AtSteps(keepSteps));
        var evaluation = new EvaluationCallback(test, "test", evaluateEveryEpoch ? When.EveryEpoch : _ => false, metrics);
        var divergence = setup.Loop(recipe.Training, [kept, evaluation]).Run(setup.Origin, setup.End, Cancellation);
        var weights = ModelState.Snapshot(setup.Model);
        return new Network(recipe, seed, Models.InputSpec.Of(train), setup.IterationsPerEpoch, weights, mask, kept.States, metrics.Rows.ToArray(),
            divergence is null ? evaluation.Last!.Value.Accuracy : double.NaN, divergence);
    }

    /// <summary>
    /// The next mask of iterative magnitude pruning: prunes <paramref name="fraction"/> (default: the
    /// pruning hyperparameters') of what <paramref name="current"/> keeps (default: the network's own
    /// mask, else dense), by the strategy they name (<c>sparse_global</c> or <c>sparse_layerwise</c>).
    /// </summary>
    public Mask Prune(Network trained, PruningHparams pruning, Mask? current = null, double? fraction = null)
    {
        using var model = trained.ToModel();
        using var dense = current is null && trained.Mask is null ? Mask.Ones(model) : null;
        return Pruner.Next(pruning, model, trained.Weights, current ?? trained.Mask ?? dense!, fraction);
    }

    /// <summary>The weights a ticket starts from: <paramref name="network"/>'s state at <paramref name="step"/> (kept while training), times the mask.</summary>
    public Dictionary<string, Tensor> Rewind(Network network, Mask mask, StepSpec step = default)
    {
        using var _ = no_grad();
        return network.StateAt(step).ToDictionary(p => p.Key, p => mask.Contains(p.Key) ? p.Value.mul(mask[p.Key]) : p.Value.clone());
    }

    /// <summary>Test error and loss along the straight line between two networks of one architecture, with the barriers of Frankle et al. (2020).</summary>
    public InterpolationCurve Interpolate(Network a, Network b, InterpolationOptions? options = null)
    {
        options ??= new InterpolationOptions();
        options.Validate();
        var (train, test) = Data(a.Recipe);
        using var model = a.ToModel(Device);
        return Interpolation.Run(model, a.Weights, b.Weights, a.Mask ?? b.Mask, test, train, options);
    }

    /// <summary>L2 distance, cosine similarity and sign agreement over the weights <paramref name="over"/> keeps (default: the networks' mask).</summary>
    public WeightDistances Distance(Network a, Network reference, Mask? over = null)
    {
        using var model = a.ToModel();
        using var dense = over is null && a.Mask is null && reference.Mask is null ? Mask.Ones(model) : null;
        return WeightDistances.Compute(a.Weights, reference.Weights, over ?? a.Mask ?? reference.Mask ?? dense!);
    }

    /// <summary>Keeps copies of the weights at chosen steps, in memory.</summary>
    private sealed class KeepStatesCallback(Func<Step, bool> when) : ITrainingCallback
    {
        public Dictionary<long, Dictionary<string, Tensor>> States { get; } = [];

        public void AtStep(TrainingState state)
        {
            if (when(state.Step) && !States.ContainsKey(state.Step.Iteration))
                States[state.Step.Iteration] = ModelState.Snapshot(state.Model);
        }
    }
}
