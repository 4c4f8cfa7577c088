using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

public static class Checkpoint
{
    // Version 3 names the run it belongs to; version 2 (no name) is still read, with a notice.
    private const string Magic = "TLCHECKPOINT3";
    private const string UnnamedMagic = "TLCHECKPOINT2";

    public static void Save(string path, CheckpointHeader header, nn.Module model, OptimizerHelper optimizer) =>
        AtomicFile.Write(path, stream =>
        {
            using (var magic = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) magic.Write(Magic);
            Checksummed.Write(stream, body =>
            {
                using (var writer = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(header.Step.Iteration);
                    writer.Write(header.Step.IterationsPerEpoch);
                    writer.Write(header.MetricRows);
                    writer.Write(header.CallbackState.ToJsonString());
                    writer.Write(header.Run ?? "");
                }
                ModelState.Write(model, body);
                using var optimizerWriter = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true);
                OptimizerFactory.SaveState(optimizer, optimizerWriter);
            });
        });

    /// <summary>
    /// Restores model and optimizer and returns the header. The header must describe a step in
    /// [<paramref name="first"/>, <paramref name="end"/>) of this run and name <paramref name="run"/>;
    /// anything else means the file is not this run's checkpoint, and using it would give wrong weights.
    /// </summary>
    public static CheckpointHeader Load(string path, nn.Module model, OptimizerHelper optimizer, Step first, Step end, string run)
    {
        try
        {
            using var stream = File.OpenRead(path);
            bool named;
            using (var magic = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                named = magic.ReadString() switch
                {
                    Magic => true,
                    UnnamedMagic => false,
                    _ => throw new InvalidDataException("bad magic, or written by an older TicketLab"),
                };
            return Checksummed.Read(stream, body =>
            {
                CheckpointHeader header;
                using (var reader = new BinaryReader(body, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    var step = new Step(reader.ReadInt64(), reader.ReadInt32());
                    int rows = reader.ReadInt32();
                    var state = System.Text.Json.Nodes.JsonNode.Parse(reader.ReadString()) as JsonObject
                        ?? throw new InvalidDataException("garbled header: callback state is not a JSON object");
                    header = new CheckpointHeader(step, rows, state, named ? reader.ReadString() : null);
                }
                if (header.Run is null)
                    Store.StoreNotices.Once("unnamed-checkpoint", $"warning: {path} was written before checkpoints named their run; it is resumed unchecked.");
                else if (header.Run != run)
                    throw new Store.RunIntegrityException($"{path}: is the checkpoint of the run {header.Run}, not of {run} (copied from another run?). Delete it to restart this run from its beginning, or put it back in its own run.");
                Validate(header, first, end);
                var tensors = TensorFile.Read(body);
                try { ModelState.Copy(model, tensors, path); }
                finally { foreach (var t in tensors.Values) t.Dispose(); }
                using var optimizerReader = new BinaryReader(body, System.Text.Encoding.UTF8, leaveOpen: true);
                OptimizerFactory.LoadState(optimizer, optimizerReader);
                return header;
            });
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or FormatException
                                      or System.Text.Json.JsonException or IOException)
        {
            throw new InvalidDataException($"{path}: unusable checkpoint ({e.Message}). Delete it to restart the run from its beginning.", e);
        }
    }

    private static void Validate(CheckpointHeader header, Step first, Step end)
    {
        var step = header.Step;
        if (step.IterationsPerEpoch != end.IterationsPerEpoch)
            throw new InvalidDataException($"garbled header: written with {step.IterationsPerEpoch} iterations per epoch, the run has {end.IterationsPerEpoch}");
        if (step.Iteration < first.Iteration || step.Iteration >= end.Iteration)
            throw new InvalidDataException($"garbled header: step {step.Iteration} lies outside this run's steps {first.Iteration}..{end.Iteration - 1}");
        if (header.MetricRows < 0) throw new InvalidDataException($"garbled header: {header.MetricRows} metric rows");
    }
}
