using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Store;
using TorchSharp;

namespace TicketLab.Training;

/// <summary>
/// provenance.json of a run: what produced it, so a result can be traced. One session per
/// process that worked on the run (a resumed run has several), each with the TicketLab version
/// and commit, libtorch version, device, threads, steps covered, start and end times and outcome;
/// and the data files read, with their checksums.
/// </summary>
public sealed class Provenance
{
    private readonly RunFolder folder;
    private readonly JsonObject document;
    private readonly JsonObject session;

    private Provenance(RunFolder folder, JsonObject document, JsonObject session) =>
        (this.folder, this.document, this.session) = (folder, document, session);

    /// <summary>The running TicketLab's version, and the commit it was built from when known.</summary>
    public static (string Version, string? Commit) TicketLabVersion()
    {
        string informational = typeof(Provenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        int plus = informational.IndexOf('+');
        return plus < 0 ? (informational, null) : (informational[..plus], informational[(plus + 1)..]);
    }

    /// <summary>Records the start of a session on the run (appended to any earlier ones) and the data it reads.</summary>
    /// <param name="stacked">How the session trained the run with others as one stacked model (networks, index, group); null: alone.</param>
    public static Provenance Begin(RunFolder folder, torch.Device device, IEnumerable<DataFile> dataFiles, Step from, JsonObject? stacked = null)
    {
        JsonObject document;
        try
        {
            document = JsonRead.ObjectFile(folder.ProvenancePath) ?? [];
        }
        catch (InvalidDataException)
        {
            document = []; // provenance is a record, not an input: a damaged one is started afresh rather than block the run
        }
        var (version, commit) = TicketLabVersion();
        var session = new JsonObject
        {
            ["started"] = Now(),
            ["ended"] = null,
            ["outcome"] = "running",
            ["from_iteration"] = from.Iteration,
            ["to_iteration"] = null,
            ["ticketlab_version"] = version,
            ["ticketlab_commit"] = commit,
            ["libtorch_version"] = torch.__version__,
            ["torchsharp_version"] = typeof(torch).Assembly.GetName().Version?.ToString(),
            ["dotnet_version"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["host"] = Environment.MachineName,
            ["device"] = device.ToString(),
            ["threads"] = torch.get_num_threads(),
        };
        if (stacked is not null) session["stacked"] = stacked;
        document["started"] ??= session["started"]!.DeepClone();
        document["data_files"] = new JsonArray(dataFiles.Select(f => (JsonNode)new JsonObject
        {
            ["path"] = f.Path, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256,
        }).ToArray());
        if (document["sessions"] is not JsonArray sessions) document["sessions"] = sessions = [];
        sessions.Add(session);
        var provenance = new Provenance(folder, document, session);
        provenance.Save();
        return provenance;
    }

    /// <summary>Records how the session ended: finished, diverged, interrupted or failed.</summary>
    public void End(string outcome, long? toIteration)
    {
        session["ended"] = Now();
        session["outcome"] = outcome;
        session["to_iteration"] = toIteration;
        if (outcome is "finished" or "diverged") document["ended"] = session["ended"]!.DeepClone();
        Save();
    }

    private void Save() => folder.WriteJson(folder.ProvenancePath, document);

    private static string Now() => DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture);
}
