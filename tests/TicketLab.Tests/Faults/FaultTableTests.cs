using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Lottery;
using TicketLab.Pruning;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Faults;

/// <summary>
/// Every fault a user can meet, and what TicketLab does about it: one test per row, named
/// "fault → behaviour", through the command line wherever that is cheap. Exit codes: 2 usage,
/// 3 data or store, 4 diverged, 143 SIGTERM (see <see cref="CommandErrors"/>).
///
/// | fault                                        | exit | behaviour                                              |
/// |----------------------------------------------|------|--------------------------------------------------------|
/// | loss becomes NaN (--lr 1e6)                  | 4    | stops, keeps checkpoint + metrics, recorded "diverged" |
/// | --lr Infinity, --pruning-fraction NaN        | 2    | names the flag                                          |
/// | --threads 0 / -1                             | 2    | names the flag (libtorch would abort)                   |
/// | --train-subset larger than the data          | 2    | names the flag and the size                             |
/// | unknown / repeated flag, --device tpu        | 2    | one line and where to find help                         |
/// | --data-dir missing or incomplete             | 3    | only that folder is looked at, says what is missing     |
/// | gzip payload or CRC corrupted                | 3    | whole stream verified, names the file                   |
/// | zero-byte CIFAR file, unreadable data file   | 3    | names the file                                          |
/// | --root a file or read-only; report read-only | 3    | names the path and the fix                              |
/// | disk full                                    | 3    | says so; the run resumes from its checkpoint            |
/// | checkpoint step edited / header garbled      | 3    | checksum and range checks name the file                 |
/// | flipped bits in saved weights                | 3    | checksum names the file                                 |
/// | mask replaced (all ones) / unknown tensor    | 3    | checked against mask.json and the model                 |
/// | summary.json / hparams.json damaged          | 3    | list marks that run unreadable, lists the others        |
/// | (more: IntegrityTests, the run manifest)     |      |                                                         |
/// | mask.json deleted                            | 0    | rebuilt from mask.bin                                   |
/// | SIGTERM                                      | 143  | checkpoint written, resumes                             |
/// | clean exit / failed start                    | -    | no lock files; no phantom run folder                    |
/// </summary>
public sealed class FaultTableTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string store;

    public FaultTableTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        store = temp.Combine("store");
    }

    public void Dispose() => temp.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => TestCli.Run(args);

    /// <summary>
    /// The recipe of <see cref="TestRuns.TinyLenet"/> as flags, so CLI and library runs share folders;
    /// <paramref name="overrides"/> are flag-value pairs that replace or add to it.
    /// </summary>
    private string[] Recipe(string steps, params string[] overrides) => TestRuns.TinyLenetFlags(steps, data, store, overrides);

    private string[] Train(params string[] overrides) => ["train", .. Recipe("1ep", overrides)];

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => l.StartsWith("error:") || l.StartsWith("warning:")) ?? "";

    private static void AssertOneLineError(string error, params string[] expected)
    {
        string line = FirstLine(error);
        Assert.StartsWith("error: ", line);
        foreach (var part in expected) Assert.Contains(part, line);
        Assert.DoesNotContain("   at ", error); // no stack trace
    }

    /// <summary>
    /// Makes the store one written before run manifests, so the checks below the manifest (file
    /// checksums, mask.json, JSON types) are what meets the fault; IntegrityTests covers the manifest.
    /// </summary>
    private void WithoutManifests()
    {
        foreach (var manifest in Directory.EnumerateFiles(store, RunManifest.FileName, SearchOption.AllDirectories)) File.Delete(manifest);
    }

    private RunFolder OnlyRun(string experimentPrefix = "train_") =>
        new(Directory.GetDirectories(Directory.GetDirectories(store, experimentPrefix + "*").Single(), "replicate_*").Single());

    // ---- divergence ----

    [Fact]
    public void Nan_loss__stops_keeps_checkpoint_and_metrics_and_is_recorded_as_diverged()
    {
        string[] args = ["train", .. Recipe("4ep", "--lr", "1e6")];
        var (code, _, error) = Run(args);
        Assert.Equal(CommandErrors.Diverged, code);
        AssertOneLineError(error, "diverged at iteration", "Lower --lr");

        var run = OnlyRun();
        var summary = TrainingSummary.Read(run)!;
        Assert.True(summary.Diverged);
        Assert.True(double.IsNaN(summary.FinalTestAccuracy));
        Assert.Equal(RunState.Diverged, run.State);
        Assert.True(File.Exists(run.CheckpointPath), "a diverged run keeps its checkpoint");
        Assert.Contains("test_accuracy,0,", File.ReadAllText(run.MetricsPath));
        Assert.False(File.Exists(run.FinalModelPath), "no 'final' weights for a run that never finished");

        // Running it again shows the recorded result, no crash, no retraining.
        var (again, _, againError) = Run(args);
        Assert.Equal(CommandErrors.Diverged, again);
        AssertOneLineError(againError, "diverged at iteration");
        var (listCode, listing, _) = Run("list", "--root", store);
        Assert.Equal(0, listCode);
        Assert.Contains("diverged at iteration", listing);
    }

    [Fact]
    public void Nan_loss_in_a_lottery__ends_imp_there_with_exit_4_and_the_table_says_diverged()
    {
        var (code, output, error) = Run(["lottery", .. Recipe("1ep", "--lr", "1e6"), "--levels", "2"]);
        Assert.Equal(CommandErrors.Diverged, code);
        AssertOneLineError(error, "level 0 of replicate 1 diverged");
        Assert.Contains("diverged: 1 of 1", output);
        Assert.False(Directory.Exists(Path.Combine(OnlyRun("lottery_").Path, "level_1")), "no level is pruned from a diverged one");
    }

    [Theory]
    [InlineData("train", "--lr", "Infinity")]
    [InlineData("train", "--momentum", "NaN")]
    [InlineData("lottery", "--pruning-fraction", "NaN")]
    [InlineData("train", "--threads", "0")]
    [InlineData("train", "--threads", "-1")]
    [InlineData("train", "--train-subset", "100000")]
    public void Non_finite_or_impossible_value__usage_error_naming_the_flag(string command, string flag, string value)
    {
        var (code, _, error) = Run([command, .. Recipe("1ep", flag, value)]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, flag);
        Assert.False(Directory.Exists(store) && Directory.EnumerateDirectories(store).Any(), "nothing is written for a refused command");
    }

    [Theory]
    [InlineData("--lr", "0.1", "--lr", "0.2")]
    [InlineData("--no-such-flag")]
    [InlineData("--device", "tpu")]
    public void Parse_errors__exit_2_with_one_line(params string[] extra)
    {
        var (code, _, error) = Run([.. Train(), .. extra]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, "ticketlab train --help");
    }

    // ---- data ----

    [Fact]
    public void Data_dir_that_does_not_exist__is_the_only_place_looked_at()
    {
        var (code, _, error) = Run(Train("--data-dir", temp.Combine("nonexistent")));
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, temp.Combine("nonexistent"), "does not exist", "only place looked at", $"looked in {temp.Combine("nonexistent", "mnist")}, ");

        // The same lookup with the data reachable through TICKETLAB_DATA still refuses to fall back.
        var locator = new DataLocator(name => name == DataLocator.DataEnvironmentVariable ? data : null, useSystemFolders: true);
        Assert.NotNull(locator.TryLocate(DatasetCatalog.Mnist, null));
        Assert.Null(locator.TryLocate(DatasetCatalog.Mnist, temp.Combine("nonexistent")));
    }

    [Fact]
    public void Data_dir_missing_one_file__names_the_file()
    {
        File.Delete(Path.Combine(data, "mnist", "t10k-labels-idx1-ubyte.gz"));
        var (code, _, error) = Run(Train());
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, "lacks t10k-labels-idx1-ubyte");
    }

    [Theory]
    [InlineData("payload", "")]
    [InlineData("crc", "corrupt gzip data")]
    public void Corrupted_gzip__whole_stream_verified_and_the_file_named(string where, string expected)
    {
        string file = Path.Combine(data, "mnist", "train-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(file);
        // The trailer is CRC-32 then length; flipping a CRC byte leaves a stream that inflates fine.
        int at = where == "crc" ? bytes.Length - 8 : bytes.Length / 2;
        bytes[at] ^= 0x5A;
        File.WriteAllBytes(file, bytes);

        var (code, _, error) = Run(Train());
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, file, expected);
    }

    [Fact]
    public void Zero_byte_cifar_files__name_the_file()
    {
        string folder = temp.Combine("cifar", "cifar-10-batches-bin");
        Directory.CreateDirectory(folder);
        foreach (var name in DatasetCatalog.Cifar10.AllFiles) File.WriteAllBytes(Path.Combine(folder, name), []);
        var (code, _, error) = Run("train", "--preset", "resnet_20", "--training-steps", "1it", "--data-dir", temp.Combine("cifar"), "--root", store, "--quiet");
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, "data_batch_1.bin", "is empty");
    }

    [Fact]
    public void Every_run_records_the_data_files_it_read_and_its_provenance()
    {
        var (code, output, error) = Run(Train());
        Assert.True(code == 0, error);
        string file = Path.Combine(data, "mnist", "train-images-idx3-ubyte.gz");
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        Assert.Contains($"Data: {file} (sha256 {sha[..16]})", output);

        var run = OnlyRun();
        var hparams = run.ReadHparams()!;
        Assert.Contains(hparams["data_files"]!.AsArray(), f => (string)f!["path"]! == file && (string)f["sha256"]! == sha);
        var provenance = JsonNode.Parse(File.ReadAllText(run.ProvenancePath))!;
        Assert.Equal(4, provenance["data_files"]!.AsArray().Count);
        var session = provenance["sessions"]!.AsArray().Single()!;
        Assert.Equal("finished", (string)session["outcome"]!);
        Assert.Equal(torch.__version__, (string)session["libtorch_version"]!);
        Assert.Equal(1, (int)session["threads"]!);
        Assert.Equal("cpu", (string)session["device"]!);
        Assert.False(string.IsNullOrEmpty((string?)session["ticketlab_version"]));
        Assert.True(DateTimeOffset.Parse((string)session["ended"]!) >= DateTimeOffset.Parse((string)session["started"]!));
        Assert.NotNull(provenance["ended"]);
    }

    // ---- the store ----

    [Fact]
    public void Root_that_is_a_file__store_error_naming_it()
    {
        File.WriteAllText(temp.Combine("afile"), "");
        var (code, _, error) = Run(Train("--root", temp.Combine("afile")));
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, temp.Combine("afile"), "is a file");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Read_only_root_unreadable_data_and_read_only_report__store_or_data_error_naming_the_path()
    {
        // Permissions do not bind root, so as root these run in a child process as the user nobody;
        // that needs a checkout nobody can read (true here and on CI machines of this kind; probed).
        if (!Unprivileged.Available) return;
        var (ok, _, _) = Run(Train());
        Assert.Equal(0, ok);
        string readOnly = temp.Combine("read-only");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var (code, _, error) = Unprivileged.Run(Train("--root", readOnly));
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, readOnly, "cannot write there");

        string experiment = Path.GetDirectoryName(OnlyRun().Path)!;
        File.SetUnixFileMode(experiment, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var (reportCode, _, reportError) = Unprivileged.Run("report", "--root", store, Path.GetFileName(experiment));
        Assert.Equal(CommandErrors.DataError, reportCode);
        AssertOneLineError(reportError, "cannot write the report", "--out");

        string open = temp.Combine("writable");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF);
        File.SetUnixFileMode(Path.Combine(data, "mnist", "t10k-labels-idx1-ubyte.gz"), UnixFileMode.None);
        var (dataCode, _, dataError) = Unprivileged.Run(Train("--root", open));
        Assert.Equal(CommandErrors.DataError, dataCode);
        AssertOneLineError(dataError, "t10k-labels-idx1-ubyte.gz", "cannot be read");
    }

    [Fact]
    public void Disk_full__store_error_that_says_the_run_resumes()
    {
        var (code, message) = CommandErrors.Classify(new IOException("No space left on device : '/store/run/.checkpoint.bin.tmp'", 28));
        Assert.Equal(CommandErrors.DataError, code);
        Assert.Contains("disk is full", message);
        Assert.Contains("resumes from its last checkpoint", message);
    }

    /// <summary>Trains TinyLenet("3ep") to iteration 13 and stops, leaving a checkpoint.</summary>
    private RunFolder PartialRun()
    {
        var desc = TestRuns.TinyLenet("3ep");
        using var cancellation = new CancellationTokenSource();
        var context = TestRuns.Context(store, data, cancellation.Token, (_, _, _) => [new CancelAt(13, cancellation)]);
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRunner.Train(desc, 1, new RunOptions(), context));
        return new RunFolder(context.Store.ReplicateFolder(desc.RunName, 1));
    }

    [Theory]
    [InlineData(1_000_000L)]
    [InlineData(-5L)]
    public void Checkpoint_step_edited__refused_naming_the_checkpoint(long step)
    {
        var run = PartialRun();
        var bytes = File.ReadAllBytes(run.CheckpointPath);
        // After the magic "TLCHECKPOINT2" (a length byte and 13 characters) comes the step.
        BitConverter.GetBytes(step).CopyTo(bytes, 14);
        File.WriteAllBytes(run.CheckpointPath, bytes);

        var (code, _, error) = Run(["train", .. Recipe("3ep")]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, run.CheckpointPath, "checksum mismatch", "Delete it");
        Assert.False(run.IsFinished);
    }

    [Fact]
    public void Checkpoint_header_out_of_range_even_with_a_valid_checksum__refused()
    {
        var run = PartialRun();
        var desc = TestRuns.TinyLenet("3ep");
        using var model = TicketLab.Models.ModelRegistry.Create(desc.Model, new TicketLab.Models.InputSpec(1, 28, 28, 10), 1);
        using var optimizer = OptimizerFactory.Create(desc.Training, model.parameters());
        Checkpoint.Save(run.CheckpointPath, new CheckpointHeader(new Step(1_000, 8), 0, [], TrainingRunner.RunName(run, TestRuns.Context(store, data))), model, optimizer);
        var error = Assert.Throws<InvalidDataException>(() => TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(store, data)));
        Assert.Contains("outside this run's steps", error.Message);
        Assert.Contains(run.CheckpointPath, error.Message);
    }

    /// <summary>A two-level lottery run (levels 0 and 1) of the tiny recipe, made through the library.</summary>
    private LotteryLayout TinyLottery()
    {
        var desc = new LotteryDesc(TestRuns.TinyLenet("1ep"), new Hyperparameters.PruningHparams(), new Hyperparameters.LotteryHparams());
        var context = TestRuns.Context(store, data);
        LotteryRunner.Run(desc, 1, 1, new RunOptions(), context);
        return LotteryRunner.Layout(context, desc, 1);
    }

    [Fact]
    public void Flipped_bits_in_saved_weights__checksum_error_naming_the_file()
    {
        var layout = TinyLottery();
        WithoutManifests();
        var bytes = File.ReadAllBytes(layout.Main(1).FinalModelPath);
        bytes[^100] ^= 0x01;
        File.WriteAllBytes(layout.Main(1).FinalModelPath, bytes);

        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", "2"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, layout.Main(1).FinalModelPath, "checksum mismatch");
    }

    [Fact]
    public void All_ones_mask_in_place_of_the_pruned_one__refused_against_mask_json()
    {
        var layout = TinyLottery();
        WithoutManifests();
        using (var pruned = Mask.Load(layout.MaskPath(1)))
            TensorFile.Save(layout.MaskPath(1), pruned.Names.Select(n => (n, ones_like(pruned[n]))));

        var (code, _, error) = Run(["branch", "random_reinit", .. Recipe("1ep"), "--levels", "1"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, layout.MaskPath(1), "records");
    }

    [Fact]
    public void Mask_naming_an_unknown_tensor__refused_naming_the_file()
    {
        var layout = TinyLottery();
        WithoutManifests();
        using (var pruned = Mask.Load(layout.MaskPath(1)))
        using (var renamed = new Mask(pruned.Names.Select(n => KeyValuePair.Create(n == "fc.weight" ? "fc9.weight" : n, pruned[n]))))
            renamed.Save(layout.MaskPath(1), layout.MaskSummaryPath(1));

        var (code, _, error) = Run(["branch", "random_reinit", .. Recipe("1ep"), "--levels", "1"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, layout.MaskPath(1), "'fc9.weight'");
    }

    [Fact]
    public void Deleted_mask_json__rebuilt_from_mask_bin()
    {
        var layout = TinyLottery();
        string original = File.ReadAllText(layout.MaskSummaryPath(1));
        File.Delete(layout.MaskSummaryPath(1));
        using (Mask.Load(layout.MaskPath(1))) { }
        Assert.Equal(original, File.ReadAllText(layout.MaskSummaryPath(1)));
    }

    [Theory]
    [InlineData("summary.json", "[1, 2]", "holds an array")]
    [InlineData("summary.json", "{\"final_test_accuracy\": \"high\"}", "'final_test_accuracy' must be a number")]
    [InlineData("summary.json", "{\"final_test_accuracy\": 0.5}", "is missing")]
    [InlineData("hparams.json", "{\"model\": 5, \"dataset\": []}", null)]
    [InlineData("hparams.json", "[]", "holds an array")]
    public void Damaged_run_json__list_marks_that_run_and_still_lists_the_others(string file, string content, string? problem)
    {
        Assert.Equal(0, Run(Train()).Code);
        Assert.Equal(0, Run(Train("--lr", "0.02")).Code);
        var runs = Directory.GetDirectories(store, "train_*").Order().Select(d => new RunFolder(Path.Combine(d, "replicate_1"))).ToArray();
        WithoutManifests();
        File.WriteAllText(Path.Combine(runs[0].Path, file), content);

        var (code, listing, error) = Run("list", "--root", store);
        Assert.Equal(problem is null ? 0 : CommandErrors.DataError, code); // every run listed; a damaged one fails the command
        Assert.Contains(Path.GetFileName(Path.GetDirectoryName(runs[1].Path)!), listing);
        Assert.Contains(Path.GetFileName(Path.GetDirectoryName(runs[0].Path)!), listing);
        if (problem is null) return; // a display field of the wrong type shows as "?"
        Assert.Contains("unreadable", listing);
        Assert.StartsWith("warning: " + Path.Combine(runs[0].Path, file), FirstLine(error));
        Assert.Contains(problem, error);
    }

    [Fact]
    public void Damaged_summary_of_the_run_asked_for__store_error_naming_the_file()
    {
        Assert.Equal(0, Run(Train()).Code);
        WithoutManifests();
        File.WriteAllText(OnlyRun().SummaryPath, "{\"final_test_accuracy\": [0.9]}");
        var (code, _, error) = Run(Train());
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, OnlyRun().SummaryPath, "must be a number");
    }

    // ---- process ----

    [Fact]
    public void Clean_exit_and_failed_start__leave_no_lock_files_and_no_phantom_run()
    {
        Assert.Equal(0, Run(Train()).Code);
        Assert.Empty(Directory.EnumerateFiles(store, "run.*", SearchOption.AllDirectories));

        var (code, _, _) = Run(Train("--data-dir", temp.Combine("no-data"), "--lr", "0.03"));
        Assert.Equal(CommandErrors.DataError, code);
        Assert.Single(Directory.GetDirectories(store, "train_*")); // only the finished run
        var (lotteryCode, _, _) = Run(["lottery", .. Recipe("1ep", "--data-dir", temp.Combine("no-data")), "--levels", "1"]);
        Assert.Equal(CommandErrors.DataError, lotteryCode);
        Assert.Empty(Directory.GetDirectories(store, "lottery_*"));
    }

    [Fact]
    public void A_lottery_being_trained__is_listed_as_running()
    {
        var level = new LotteryLayout(Path.Combine(store, "lottery_0123456789abcdef", "replicate_1")).Main(0);
        using (RunLock.Acquire(level.Path))
        {
            var (code, listing, _) = Run("list", "--root", store);
            Assert.Equal(0, code);
            Assert.Contains("running", listing);
        }
    }

    [Fact]
    public void Progress_lines__never_print_nan_or_zero_images_per_second()
    {
        var (code, output, error) = Run(Train());
        Assert.True(code == 0, error);
        Assert.Contains("epoch 0/1", output);
        Assert.DoesNotContain("NaN", output);
        Assert.DoesNotContain(" 0 img/s", output);
    }

    [Fact]
    public void Sigterm__writes_a_checkpoint_and_exits_143()
    {
        string[] args = ["train", .. Recipe("200ep")];
        var start = Unprivileged.CliStart(args, asNobody: false);
        using var process = Process.Start(start)!;
        var folder = new RunFolder(Path.Combine(store, TestRuns.TinyLenet("200ep").RunName, "replicate_1"));
        var deadline = Stopwatch.StartNew();
        while (!(File.Exists(folder.MetricsPath) && File.ReadAllText(folder.MetricsPath).Contains("test_accuracy,16,")) && !process.HasExited)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the child run never reached its second epoch");
            Thread.Sleep(5);
        }
        Assert.False(process.HasExited, "the child run ended before SIGTERM");
        Assert.Equal(0, Signals.kill(process.Id, Signals.SIGTERM));
        Assert.True(process.WaitForExit(30_000), "the run did not stop after SIGTERM");
        Assert.Equal(CommandErrors.Terminated, process.ExitCode);
        Assert.True(File.Exists(folder.CheckpointPath));
        Assert.Equal(RunState.Partial, folder.State);
    }
}

internal static class Signals
{
    public const int SIGTERM = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    public static extern int kill(int pid, int signal);
}

/// <summary>Runs the CLI in a child process, as the user nobody when this process is root (permissions do not bind root).</summary>
internal static class Unprivileged
{
    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Whether such a child can start at all: as nobody it must be able to read the dotnet host and this checkout.</summary>
    public static bool Available => available.Value;
    private static readonly Lazy<bool> available = new(() =>
    {
        if (!IsRoot) return true;
        try { return Run("--version").Code == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; } // no setpriv on this machine
    });

    public static ProcessStartInfo CliStart(IEnumerable<string> args, bool asNobody = true)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "TicketLab.Cli.dll");
        var start = new ProcessStartInfo(asNobody && IsRoot ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asNobody && IsRoot)
        {
            foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" }) start.ArgumentList.Add(arg);
            start.Environment["HOME"] = "/tmp";
            start.Environment["DOTNET_CLI_HOME"] = "/tmp";
        }
        start.ArgumentList.Add(cli);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var process = Process.Start(CliStart(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }
}
