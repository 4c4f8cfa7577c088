using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Store;

namespace TicketLab.Training;

/// <summary>
/// The result of a training run, stored as summary.json. A diverged run is a result too: its
/// loss stopped being finite at <see cref="DivergedAtStep"/>, and its accuracies are NaN (null in JSON).
/// </summary>
public sealed record TrainingSummary
{
    public required string Folder { get; init; }
    public required double FinalTestAccuracy { get; init; }
    public required double FinalTestLoss { get; init; }
    public required double BestTestAccuracy { get; init; }
    public required long BestTestAccuracyStep { get; init; }
    public required long Iterations { get; init; }
    public required int IterationsPerEpoch { get; init; }
    public double SecondsPerEpoch { get; init; }
    /// <summary>Median seconds of the whole epochs after the first (see <see cref="TimingCallback.MedianEpochSeconds"/>).</summary>
    public double MedianEpochSeconds { get; init; } = double.NaN;
    public double ImagesPerSecond { get; init; }
    public double WallSeconds { get; init; }
    public bool AlreadyFinished { get; init; }
    /// <summary>The iteration whose loss (or the weights before it) was not finite; null for a run that trained to its end.</summary>
    public long? DivergedAtStep { get; init; }
    public string? DivergenceCause { get; init; }

    public bool Diverged => DivergedAtStep is not null;

    /// <summary>This summary, or a <see cref="RunDivergedException"/> naming <paramref name="what"/> when the run diverged.</summary>
    public TrainingSummary RequireConverged(string what) => Diverged ? throw new RunDivergedException(this, what) : this;

    /// <summary>"diverged at it 12 (the training loss is NaN)", for tables and messages.</summary>
    public string DivergenceText => $"diverged at iteration {DivergedAtStep} ({DivergenceCause})";

    public JsonObject ToJson() => new()
    {
        ["final_test_accuracy"] = Finite(FinalTestAccuracy),
        ["final_test_loss"] = Finite(FinalTestLoss),
        ["best_test_accuracy"] = Finite(BestTestAccuracy),
        ["best_test_accuracy_step"] = BestTestAccuracyStep,
        ["iterations"] = Iterations,
        ["iterations_per_epoch"] = IterationsPerEpoch,
        // Timings are derived (ratios of clock readings): rounded, so that no float noise reaches the files.
        ["seconds_per_epoch"] = Finite(Foundations.DataNumbers.Derived(SecondsPerEpoch)),
        ["median_epoch_seconds"] = Finite(Foundations.DataNumbers.Derived(MedianEpochSeconds)),
        ["images_per_second"] = Finite(Foundations.DataNumbers.Derived(ImagesPerSecond)),
        ["wall_seconds"] = Finite(Foundations.DataNumbers.Derived(WallSeconds)),
        ["diverged_at_step"] = DivergedAtStep,
        ["divergence_cause"] = DivergenceCause,
    };

    // JSON has no NaN: an undefined figure (a diverged run's accuracy) is stored as null.
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>Reads and checks a run's summary.json; null when the run has not finished.</summary>
    /// <exception cref="InvalidDataException">The file is not a summary: names the file and the fault.</exception>
    public static TrainingSummary? Read(RunFolder folder)
    {
        string path = folder.SummaryPath;
        if (JsonRead.ObjectFile(folder.Verified(path)) is not { } json) return null;
        long? diverged = json["diverged_at_step"] is null ? null : JsonRead.Integer(json, "diverged_at_step", path);
        // A finished run must have its accuracies; only a diverged one may lack them.
        double Accuracy(string key) => diverged is null ? JsonRead.Number(json, key, path) : JsonRead.NumberOrNull(json, key, path) ?? double.NaN;
        var summary = new TrainingSummary
        {
            Folder = folder.Path,
            FinalTestAccuracy = Accuracy("final_test_accuracy"),
            FinalTestLoss = Accuracy("final_test_loss"),
            BestTestAccuracy = Accuracy("best_test_accuracy"),
            BestTestAccuracyStep = JsonRead.Integer(json, "best_test_accuracy_step", path),
            Iterations = JsonRead.Integer(json, "iterations", path),
            IterationsPerEpoch = (int)JsonRead.Integer(json, "iterations_per_epoch", path),
            SecondsPerEpoch = JsonRead.NumberOrNull(json, "seconds_per_epoch", path) ?? double.NaN,
            MedianEpochSeconds = JsonRead.NumberOrNull(json, "median_epoch_seconds", path) ?? double.NaN,
            ImagesPerSecond = JsonRead.NumberOrNull(json, "images_per_second", path) ?? double.NaN,
            WallSeconds = JsonRead.NumberOrNull(json, "wall_seconds", path) ?? 0,
            DivergedAtStep = diverged,
            DivergenceCause = JsonRead.StringOrNull(json, "divergence_cause", path),
            AlreadyFinished = true,
        };
        if (summary.FinalTestAccuracy is < 0 or > 1 || summary.BestTestAccuracy is < 0 or > 1)
            throw JsonRead.Damaged(path, "an accuracy lies outside [0, 1]");
        if (summary.IterationsPerEpoch < 1) throw JsonRead.Damaged(path, "'iterations_per_epoch' must be at least 1");
        return summary;
    }
}

/// <summary>A run's loss stopped being finite: a result to report (exit code 4), not a crash.</summary>
public sealed class RunDivergedException(TrainingSummary summary, string what)
    : Exception($"{what} {summary.DivergenceText}; its checkpoint and metrics are kept in {summary.Folder}. Lower --lr (or add --warmup-steps) and run again.")
{
    public TrainingSummary Summary { get; } = summary;
}
