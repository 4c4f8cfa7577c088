using TicketLab.Foundations;

namespace TicketLab.Training;

/// <summary>Run-time choices that do not change the trained weights, so they are not hashed.</summary>
public sealed record RunOptions
{
    /// <summary>Evaluate on the test set at each epoch start (and always at the end).</summary>
    public bool EvaluateEveryEpoch { get; init; } = true;
    /// <summary>Extra steps at which to evaluate on the test set.</summary>
    public StepSpec[] EvaluateSteps { get; init; } = [];
    /// <summary>Also evaluate on the training set whenever the test set is evaluated.</summary>
    public bool EvaluateTrainSet { get; init; }
    /// <summary>Steps at which to save the weights (states to rewind to). Step 0 and the end are always saved.</summary>
    public StepSpec[] SaveSteps { get; init; } = [];
    /// <summary>Stop at this step instead of the end of the recipe; the learning-rate schedule still follows the whole recipe.</summary>
    public StepSpec? StopAt { get; init; }
    /// <summary>
    /// At most this many networks of one architecture that train on the same data are trained together, as one
    /// stacked model (<see cref="StackedTraining"/>); 1: each alone.
    /// </summary>
    public int NetworksPerProcess { get; init; } = StackedTraining.DefaultNetworks;
}
