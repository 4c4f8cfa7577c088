using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TicketLab.Foundations;

namespace TicketLab.Store;

/// <summary>A file of a run (<paramref name="Owner"/>) that another run starts from, or that a run records as made before it trained (its mask).</summary>
public sealed record RunInput(RunFolder Owner, string File);

/// <summary>A file a run was made from, by name (data) or by its path relative to the run folder (inputs), with its SHA-256.</summary>
public sealed record RecordedFile(string Name, string Sha256);

/// <summary>
/// manifest.json of a run folder: what the run is (its folder relative to the store, the name its
/// checkpoints carry), the data it trained on (file names and SHA-256), the files of other runs it
/// started from (a parent's weights, the rewind state) and the SHA-256 of every file it wrote
/// (hparams.json, masks, saved weights, metrics.csv, summary.json) as it wrote them. Readers check
/// the files they use against it (<see cref="RunFolder.Verified"/>), so a file edited, swapped,
/// cut or deleted after the run wrote it stops the command with a line naming it, instead of
/// giving a wrong result.
/// </summary>
public sealed class RunManifest
{
    public const string FileName = "manifest.json";
    private const int FormatVersion = 1;

    private readonly SortedDictionary<string, string> files = new(StringComparer.Ordinal);
    private readonly List<RecordedFile> inputs = [];
    private List<RecordedFile> dataFiles = [];

    public RunManifest(string run) => Run = run;

    /// <summary>The run's folder relative to the store root (<c>lottery_1a2b/replicate_1/level_3/main</c>): what its checkpoints name.</summary>
    public string Run { get; }
    public IReadOnlyList<RecordedFile> DataFiles => dataFiles;
    public IReadOnlyList<RecordedFile> Inputs => inputs;
    /// <summary>The files the run wrote, by path relative to its folder ('/' separated), with their SHA-256.</summary>
    public IReadOnlyDictionary<string, string> Files => files;

    public void SetDataFiles(IEnumerable<RecordedFile> data) => dataFiles = [.. data];

    public void RecordFile(string relativePath, string sha256) => files[relativePath] = sha256;

    public void RecordInput(RecordedFile input)
    {
        inputs.RemoveAll(i => i.Name == input.Name);
        inputs.Add(input);
    }

    /// <summary>
    /// Compares the data a run is about to train on with the data it (or the run it extends) was
    /// trained on: a file of the same name with other content is an error naming both checksums.
    /// </summary>
    public void RequireSameData(IEnumerable<(string Path, string Sha256)> current, string who)
    {
        foreach (var (path, sha) in current)
        {
            string name = System.IO.Path.GetFileName(path);
            if (dataFiles.FirstOrDefault(d => d.Name == name) is { } recorded && recorded.Sha256 != sha)
                throw new RunIntegrityException(
                    $"{path}: its content (sha256 {sha[..12]}) differs from the {name} that {who} was trained on (sha256 {recorded.Sha256[..12]}, in {Run}/{FileName}). "
                    + "Point --data-dir at the original files, or use another --root for other data.");
        }
    }

    public JsonObject ToJson() => new()
    {
        ["format"] = FormatVersion,
        ["run"] = Run,
        ["data_files"] = new JsonArray(dataFiles.Select(d => (JsonNode)new JsonObject { ["name"] = d.Name, ["sha256"] = d.Sha256 }).ToArray()),
        ["inputs"] = new JsonArray(inputs.Select(d => (JsonNode)new JsonObject { ["path"] = d.Name, ["sha256"] = d.Sha256 }).ToArray()),
        ["files"] = new JsonObject(files.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)JsonValue.Create(f.Value)))),
    };

    /// <summary>Reads a folder's manifest; null when it has none (a run written before manifests, or not started).</summary>
    public static RunManifest? Read(string folder)
    {
        string path = System.IO.Path.Combine(folder, FileName);
        if (JsonRead.ObjectFile(path) is not { } json) return null;
        if (JsonRead.Integer(json, "format", path) != FormatVersion)
            throw JsonRead.Damaged(path, $"format {json["format"]} is not one this TicketLab reads ({FormatVersion})");
        var manifest = new RunManifest(JsonRead.StringOrNull(json, "run", path) ?? throw JsonRead.Damaged(path, "'run' is missing"));
        manifest.dataFiles = [.. Entries(json, "data_files", "name", path)];
        manifest.inputs.AddRange(Entries(json, "inputs", "path", path));
        foreach (var (name, value) in JsonRead.Object(json, "files", path))
            manifest.files[name] = value is JsonValue v && v.TryGetValue(out string? sha) ? sha : throw JsonRead.Damaged(path, $"files['{name}'] is not a checksum");
        return manifest;
    }

    private static IEnumerable<RecordedFile> Entries(JsonObject json, string key, string nameKey, string path) =>
        json[key] is JsonArray array
            ? array.Select(e => e is JsonObject o
                ? new RecordedFile(JsonRead.StringOrNull(o, nameKey, path) ?? throw JsonRead.Damaged(path, $"an entry of '{key}' lacks '{nameKey}'"),
                    JsonRead.StringOrNull(o, "sha256", path) ?? throw JsonRead.Damaged(path, $"an entry of '{key}' lacks 'sha256'"))
                : throw JsonRead.Damaged(path, $"'{key}' holds something other than objects")).ToArray()
            : throw JsonRead.Damaged(path, $"'{key}' is missing");

    public void Save(string folder) => AtomicFile.WriteJson(System.IO.Path.Combine(folder, FileName), ToJson());

    // Files are hashed once per process while unchanged (same length and write time): `list` and
    // `report` read the same small files many times.
    private static readonly ConcurrentDictionary<string, (long Length, DateTime Written, string Sha256)> HashCache = new();

    public static string Sha256Of(string path)
    {
        var info = new FileInfo(path);
        if (HashCache.TryGetValue(info.FullName, out var known) && known.Length == info.Length && known.Written == info.LastWriteTimeUtc)
            return known.Sha256;
        string sha;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        HashCache[info.FullName] = (info.Length, info.LastWriteTimeUtc, sha);
        return sha;
    }

    public static string Sha256OfText(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}

/// <summary>A run's file differs from what its manifest recorded, or the run is used with other data: exit code 3, nothing computed.</summary>
public sealed class RunIntegrityException(string message) : Exception(message);

/// <summary>
/// Notices about the store said once per process (a store written before manifests would otherwise
/// warn once per run). The command line points <see cref="Out"/> at stderr; the library is silent by default.
/// </summary>
public static class StoreNotices
{
    private static readonly ConcurrentDictionary<string, bool> Said = new();

    public static TextWriter Out { get; set; } = TextWriter.Null;

    /// <summary>Writes the message unless a notice with this key was written before; returns whether it wrote it.</summary>
    public static bool Once(string key, string message)
    {
        if (!Said.TryAdd(key, true)) return false;
        Out.WriteLine(message);
        return true;
    }
}
