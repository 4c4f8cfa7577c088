using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Foundations;

namespace TicketLab.Store;

/// <summary>Where a run stands. <see cref="Diverged"/> is final: its loss stopped being finite, and rerunning gives the same.</summary>
public enum RunState { New, Partial, Finished, Running, Diverged }

/// <summary>The files of one run: hyperparameters, metrics, summary, checkpoint and saved models.</summary>
public sealed class RunFolder(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string HparamsPath => System.IO.Path.Combine(Path, "hparams.json");
    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.csv");
    public string SummaryPath => System.IO.Path.Combine(Path, "summary.json");
    public string CheckpointPath => System.IO.Path.Combine(Path, "checkpoint.bin");
    /// <summary>What produced the run: versions, device, threads, data files and their checksums, start and end times.</summary>
    public string ProvenancePath => System.IO.Path.Combine(Path, "provenance.json");
    public string ModelsFolder => System.IO.Path.Combine(Path, "models");

    /// <summary>Weights saved at a step, for rewinding: <c>models/model_ep2_it0.bin</c>.</summary>
    public string ModelPath(Step step) => System.IO.Path.Combine(ModelsFolder, $"model_{step.Label}.bin");
    public string FinalModelPath => System.IO.Path.Combine(ModelsFolder, "model_final.bin");

    public bool IsFinished => File.Exists(SummaryPath);

    public RunState State
    {
        get
        {
            if (IsFinished) return JsonRead.ObjectFile(SummaryPath)?["diverged_at_step"] is null ? RunState.Finished : RunState.Diverged;
            if (RunLock.IsHeld(Path)) return RunState.Running;
            return File.Exists(CheckpointPath) || File.Exists(MetricsPath) ? RunState.Partial : RunState.New;
        }
    }

    /// <summary>hparams.json as an object, or null if absent; a file that is not a JSON object is an error naming it.</summary>
    public JsonObject? ReadHparams() => JsonRead.ObjectFile(HparamsPath);

    public void WriteJson(string file, JsonNode node) => AtomicFile.WriteJson(file, node);
}
