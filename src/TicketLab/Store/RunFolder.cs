using System.Text.Json;
using System.Text.Json.Nodes;
using TicketLab.Foundations;

namespace TicketLab.Store;

public enum RunState { New, Partial, Finished, Running }

/// <summary>The files of one run: hyperparameters, metrics, summary, checkpoint and saved models.</summary>
public sealed class RunFolder(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string HparamsPath => System.IO.Path.Combine(Path, "hparams.json");
    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.csv");
    public string SummaryPath => System.IO.Path.Combine(Path, "summary.json");
    public string CheckpointPath => System.IO.Path.Combine(Path, "checkpoint.bin");
    public string ModelsFolder => System.IO.Path.Combine(Path, "models");

    /// <summary>Weights saved at a step, for rewinding: <c>models/model_ep2_it0.bin</c>.</summary>
    public string ModelPath(Step step) => System.IO.Path.Combine(ModelsFolder, $"model_{step.Label}.bin");
    public string FinalModelPath => System.IO.Path.Combine(ModelsFolder, "model_final.bin");

    public bool IsFinished => File.Exists(SummaryPath);

    public RunState State
    {
        get
        {
            if (IsFinished) return RunState.Finished;
            if (IsLocked()) return RunState.Running;
            return File.Exists(CheckpointPath) || File.Exists(MetricsPath) ? RunState.Partial : RunState.New;
        }
    }

    private bool IsLocked()
    {
        string lockPath = System.IO.Path.Combine(Path, "run.lock");
        if (!File.Exists(lockPath)) return false;
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public JsonObject? ReadHparams() => ReadJson(HparamsPath);
    public JsonObject? ReadSummary() => ReadJson(SummaryPath);

    public void WriteJson(string file, JsonNode node) =>
        AtomicFile.WriteText(file, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    private static JsonObject? ReadJson(string file)
    {
        if (!File.Exists(file)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(file))?.AsObject();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not valid JSON ({e.Message}).", e);
        }
    }
}
