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
    /// <summary>What the run is and wrote, with checksums: see <see cref="RunManifest"/>.</summary>
    public string ManifestPath => System.IO.Path.Combine(Path, RunManifest.FileName);

    /// <summary>Weights saved at a step, for rewinding: <c>models/model_ep2_it0.bin</c>.</summary>
    public string ModelPath(Step step) => System.IO.Path.Combine(ModelsFolder, $"model_{step.Label}.bin");
    public string FinalModelPath => System.IO.Path.Combine(ModelsFolder, "model_final.bin");

    public bool IsFinished => File.Exists(SummaryPath);

    public RunState State
    {
        get
        {
            if (IsFinished) return JsonRead.ObjectFile(Verified(SummaryPath))?["diverged_at_step"] is null ? RunState.Finished : RunState.Diverged;
            if (RunLock.IsHeld(Path)) return RunState.Running;
            return File.Exists(CheckpointPath) || File.Exists(MetricsPath) ? RunState.Partial : RunState.New;
        }
    }

    /// <summary>hparams.json as an object, or null if absent; a file that is not a JSON object is an error naming it.</summary>
    public JsonObject? ReadHparams() => JsonRead.ObjectFile(Verified(HparamsPath));

    /// <summary>metrics.csv's rows, checked against the manifest.</summary>
    public IReadOnlyList<MetricRow> ReadMetrics() => MetricsLog.Read(Verified(MetricsPath));

    /// <summary>Weights the run saved (<see cref="FinalModelPath"/>, <see cref="ModelPath"/>), checked against the manifest. The caller owns the tensors.</summary>
    public Dictionary<string, TorchSharp.torch.Tensor> LoadTensors(string file) => TensorFile.Load(Verified(file));

    public void WriteJson(string file, JsonNode node) => AtomicFile.WriteJson(file, node);

    private RunManifest? manifest;
    private bool manifestRead;

    /// <summary>The run's manifest, read once per instance; null for a run written before manifests or not yet started.</summary>
    public RunManifest? Manifest
    {
        get
        {
            if (!manifestRead) (manifest, manifestRead) = (RunManifest.Read(Path), true);
            return manifest;
        }
    }

    /// <summary>
    /// Checks a file of this run against the checksum its manifest recorded when the run wrote it
    /// and returns its path; a file the run wrote that is now missing or different is a
    /// <see cref="RunIntegrityException"/> naming it. Files the manifest does not list (a run
    /// still training) are returned as they are; a run without a manifest is noticed once per process.
    /// </summary>
    public string Verified(string file)
    {
        if (Manifest is not { } recorded)
        {
            if (File.Exists(HparamsPath))
                StoreNotices.Once("no-manifest", $"warning: {Path} (and perhaps other runs) has no {RunManifest.FileName}: it was written before TicketLab 0.6, "
                    + "so its files are read without checking them against what the run wrote.");
            return file;
        }
        string relative = RelativePath(file);
        if (!recorded.Files.TryGetValue(relative, out var expected)) return file;
        string? actual = File.Exists(file) ? RunManifest.Sha256Of(file) : null;
        if (actual == expected) return file;
        // A run another process is writing records each file in its manifest just before writing it,
        // and this instance may hold an older manifest: a file not yet there, or not yet the one the
        // manifest names, is a run in progress (read as it stands; its writer seals it), not damage.
        if (RunLock.IsHeldElsewhere(Path)) return file;
        if (RunManifest.Read(Path) is { } fresh && (!fresh.Files.TryGetValue(relative, out var now) || now == actual))
        {
            manifest = fresh;
            return file;
        }
        if (actual is null)
            throw new RunIntegrityException($"{file}: is missing, but the run wrote it ({ManifestPath} lists it). Restore it, or delete {Path} and run the command again to recompute the run.");
        throw new RunIntegrityException($"{file}: differs from what the run wrote (sha256 {actual[..12]}; {ManifestPath} recorded {expected[..12]}): it was edited, swapped or damaged. "
            + $"Restore it, or delete {Path} and run the command again to recompute the run.");
    }

    /// <summary>
    /// The manifest a run that starts or resumes writes to: the one it has (which must name the same
    /// run: a folder holding another run's files is refused), or a new one.
    /// </summary>
    public RunManifest BeginManifest(string run)
    {
        if (Manifest is { } existing && existing.Run != run)
            throw new RunIntegrityException($"{ManifestPath}: belongs to the run {existing.Run}, not to {run}: the folder holds another run's files. Delete {Path} and run the command again.");
        manifest ??= new RunManifest(run);
        return manifest;
    }

    /// <summary>Records a file the run has just written in its manifest (begun with <see cref="BeginManifest"/>).</summary>
    public void Record(string file)
    {
        var current = manifest ?? throw new InvalidOperationException($"{Path}: no manifest begun");
        current.RecordFile(RelativePath(file), RunManifest.Sha256Of(file));
        current.Save(Path);
    }

    /// <summary>Writes a JSON file of the run, its checksum recorded in the manifest first (so a crash between the two leaves a file the manifest rejects, never one it does not know).</summary>
    public void WriteRecordedJson(string file, JsonNode node)
    {
        var current = manifest ?? throw new InvalidOperationException($"{Path}: no manifest begun");
        string text = AtomicFile.JsonText(node);
        current.RecordFile(RelativePath(file), RunManifest.Sha256OfText(text));
        current.Save(Path);
        AtomicFile.WriteText(file, text);
    }

    /// <summary>
    /// Gives a run written whole by other means (an import) its manifest: every file it holds is
    /// recorded as the run's own (not provenance.json, a record that sessions append to).
    /// </summary>
    public void Seal(string run)
    {
        var sealedManifest = BeginManifest(run);
        foreach (string file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(file);
            if (name.StartsWith('.') || file == ManifestPath || file == ProvenancePath || file == CheckpointPath) continue;
            sealedManifest.RecordFile(RelativePath(file), RunManifest.Sha256Of(file));
        }
        sealedManifest.Save(Path);
    }

    /// <summary>A path as the manifest names it: relative to this run folder, '/' separated.</summary>
    public string RelativePath(string file) => System.IO.Path.GetRelativePath(Path, file).Replace('\\', '/');
}
