using TicketLab.Data;
using TicketLab.Store;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// What every run needs from its surroundings, passed explicitly instead of kept in globals:
/// the store, the device, data, cancellation, a log and observers (e.g. a progress bar).
/// </summary>
public sealed record RunContext
{
    public required ExperimentStore Store { get; init; }
    public Device Device { get; init; } = CPU;
    public DataSource Data { get; init; } = new();
    public CancellationToken Cancellation { get; init; }
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>
    /// Wait for a run another process is writing, then use its result, instead of refusing. Units of a
    /// study share runs (a compare unit needs the random re-initialization a branch unit also trains).
    /// </summary>
    public bool WaitForLocks { get; init; }

    /// <summary>
    /// Makes callbacks that watch a run (progress display); called once per run, with its folder, its metrics
    /// log and its timing (whose figures summary.json records). They run after the callbacks that log metrics.
    /// </summary>
    public Func<RunFolder, MetricsLog, TimingCallback, IEnumerable<ITrainingCallback>> Observers { get; init; } = (_, _, _) => [];
}

/// <summary>Loads each dataset once per process and keeps it on the run's device.</summary>
public sealed class DataSource(string? dataDir = null, bool download = false)
{
    private readonly Dictionary<(string, int?, string), (ImageDataset Train, ImageDataset Test)> cache = [];
    private readonly HashSet<string> announced = [];

    /// <summary>The files among <paramref name="files"/> not named to the user yet in this process (each is echoed once, not once per run).</summary>
    public IReadOnlyList<DataFile> NotYetAnnounced(IEnumerable<DataFile> files)
    {
        lock (announced) return files.Where(f => announced.Add(f.Path)).ToArray();
    }

    public string? DataDir { get; } = dataDir;
    public bool Download { get; } = download;

    public (ImageDataset Train, ImageDataset Test) Get(string name, int? trainSubset, Device device)
    {
        var key = (name, trainSubset, device.ToString());
        lock (cache)
        {
            if (cache.TryGetValue(key, out var found)) return found;
            var (train, test) = DatasetLoader.Load(name, DataDir, Download, trainSubset);
            if (device.type != DeviceType.CPU)
            {
                (train, test) = (OnDevice(train, device), OnDevice(test, device));
            }
            cache[key] = (train, test);
            return (train, test);
        }
    }

    private static ImageDataset OnDevice(ImageDataset dataset, Device device)
    {
        var moved = new ImageDataset(dataset.Info, dataset.Images.to(device), dataset.Labels.to(device)) { Files = dataset.Files };
        dataset.Dispose();
        return moved;
    }
}
