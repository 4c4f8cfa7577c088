using TicketLab.Cli;
using TicketLab.Cli.Commands;
using TicketLab.Hyperparameters;
using TicketLab.Lottery;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;

namespace TicketLab.Tests.Faults;

/// <summary>
/// A result is tied to its data, its run and its mask (issue 22): each case an adversarial user
/// found ending in exit 0 with a wrong result now ends in one line naming the file and what
/// differs, with exit 3 (a file or data) or 2 (a flag), and nothing already computed is changed.
/// </summary>
public sealed class IntegrityTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;
    private readonly string otherData;
    private readonly string store;

    public IntegrityTests()
    {
        data = LearnableData.WriteMnist(temp.Combine("data"));
        // Same format and size, other content: what a wrong --data-dir looks like.
        otherData = LearnableData.WriteMnist(temp.Combine("other"), seed: 8);
        store = temp.Combine("store");
    }

    public void Dispose() => temp.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => TestCli.Run(args);

    /// <summary>The recipe of <see cref="TestRuns.TinyLenet"/> as flags; <paramref name="overrides"/> replace or add flag-value pairs.</summary>
    private string[] Recipe(string steps, params string[] overrides) => TestRuns.TinyLenetFlags(steps, data, store, overrides);

    private static void AssertOneLineError(string error, params string[] expected)
    {
        string line = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => l.StartsWith("error:")) ?? "";
        Assert.StartsWith("error: ", line);
        foreach (var part in expected) Assert.Contains(part, line);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("System.", line);
    }

    /// <summary>Trains TinyLenet(<paramref name="steps"/>) with <paramref name="lr"/> to iteration 13 and stops, leaving a checkpoint.</summary>
    private RunFolder PartialRun(string steps = "3ep", double lr = 0.05)
    {
        var desc = TestRuns.TinyLenet(steps) with { Training = TestRuns.TinyLenet(steps).Training with { Lr = lr } };
        using var cancellation = new CancellationTokenSource();
        var context = TestRuns.Context(store, data, cancellation.Token, (_, _, _) => [new CancelAt(13, cancellation)]);
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRunner.Train(desc, 1, new RunOptions(), context));
        return new RunFolder(context.Store.ReplicateFolder(desc.RunName, 1));
    }

    private LotteryLayout Lottery(int levels)
    {
        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", levels.ToString()]);
        Assert.True(code == 0, error);
        return new LotteryLayout(Directory.GetDirectories(Directory.GetDirectories(store, "lottery_*").Single(), "replicate_*").Single());
    }

    private static string Sha(string path) => RunManifest.Sha256Of(path);

    // ---- 1. other data ----

    [Fact]
    public void Resume_on_other_data__refused_and_the_run_keeps_its_record_of_the_first_data()
    {
        var run = PartialRun();
        string hparams = File.ReadAllText(run.HparamsPath), provenance = File.ReadAllText(run.ProvenancePath);

        var (code, _, error) = Run(["train", .. Recipe("3ep", "--data-dir", otherData)]);

        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, otherData, "differs from the", "was trained on", "--data-dir");
        Assert.Equal(hparams, File.ReadAllText(run.HparamsPath));
        Assert.Equal(provenance, File.ReadAllText(run.ProvenancePath));
        Assert.True(File.Exists(run.CheckpointPath), "the checkpoint is kept for a resume on the right data");
        Assert.Equal(0, Run(["train", .. Recipe("3ep")]).Code);
    }

    [Fact]
    public void A_new_level_on_other_data__refused_before_pruning_or_training()
    {
        var layout = Lottery(1);
        var (code, _, error) = Run(["lottery", .. Recipe("1ep", "--data-dir", otherData), "--levels", "2"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, "was trained on");
        Assert.False(Directory.Exists(layout.LevelFolder(2)), "nothing of level 2 is written");
    }

    [Fact]
    public void A_branch_on_other_data__refused()
    {
        Lottery(1);
        var (code, _, error) = Run(["branch", "random_reinit", .. Recipe("1ep", "--data-dir", otherData), "--levels", "1"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, "was trained on");
    }

    // ---- 2. a checkpoint from another run ----

    [Fact]
    public void Checkpoint_copied_from_another_run__refused_naming_the_run_it_belongs_to()
    {
        var other = PartialRun(lr: 0.02);
        var run = PartialRun();
        File.Copy(other.CheckpointPath, run.CheckpointPath, overwrite: true);

        var (code, _, error) = Run(["train", .. Recipe("3ep")]);

        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, run.CheckpointPath, "is the checkpoint of the run", Path.GetFileName(Path.GetDirectoryName(other.Path)!));
        Assert.Equal(RunState.Partial, run.State);
    }

    // ---- 3. an edited hparams.json ----

    [Fact]
    public void Edited_hparams_of_a_finished_run__list_and_train_name_the_file()
    {
        Assert.Equal(0, Run(["train", .. Recipe("1ep")]).Code);
        Assert.Equal(0, Run(["train", .. Recipe("1ep", "--lr", "0.02")]).Code);
        var edited = new RunFolder(Path.Combine(store, TestRuns.TinyLenet("1ep").RunName, "replicate_1"));
        File.WriteAllText(edited.HparamsPath, File.ReadAllText(edited.HparamsPath).Replace("\"lr\": 0.05", "\"lr\": 0.5"));

        var (listCode, listing, listError) = Run("list", "--root", store);
        Assert.Equal(CommandErrors.DataError, listCode);
        Assert.Contains($"warning: {edited.HparamsPath}: differs from what the run wrote", listError);
        Assert.Equal(2, listing.Split('\n').Count(l => l.Contains("train_"))); // the other run is still listed

        var (code, _, error) = Run(["train", .. Recipe("1ep")]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, edited.HparamsPath, "differs from what the run wrote");
    }

    // ---- 4. masks swapped between levels ----

    [Fact]
    public void Masks_swapped_between_levels__refused_against_the_manifest()
    {
        var layout = Lottery(3);
        SwapMasks(layout, 2, 3);
        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", "4"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, "mask.bin", "differs from what the run wrote");
        Assert.False(Directory.Exists(layout.LevelFolder(4)));
    }

    [Fact]
    public void Masks_swapped_in_a_store_without_manifests__refused_against_the_levels_density_and_weights()
    {
        var layout = Lottery(3);
        foreach (var manifest in Directory.EnumerateFiles(store, RunManifest.FileName, SearchOption.AllDirectories)) File.Delete(manifest);
        SwapMasks(layout, 2, 3);
        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", "4"]);
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, layout.MaskPath(3), "belongs to another level");
    }

    private static void SwapMasks(LotteryLayout layout, int a, int b)
    {
        foreach (var (pa, pb) in new[] { (layout.MaskPath(a), layout.MaskPath(b)), (layout.MaskSummaryPath(a), layout.MaskSummaryPath(b)) })
        {
            File.Move(pa, pa + ".swap");
            File.Move(pb, pa);
            File.Move(pa + ".swap", pb);
        }
    }

    // ---- 5. step counts that overflow ----

    [Theory]
    [InlineData("train", "--training-steps", "1152921504606846977ep")]
    [InlineData("train", "--training-steps", "10000000000000000000ep")]
    [InlineData("train", "--milestone-steps", "1152921504606846977ep")]
    [InlineData("lottery", "--rewind-step", "1152921504606846977ep")]
    [InlineData("train", "--training-steps", "1000000000001it")]
    public void Step_count_too_large__usage_error_naming_the_flag_nothing_trained(string command, string flag, string value)
    {
        var (code, _, error) = Run([command, .. Recipe("1ep", flag, value), .. command == "lottery" ? new[] { "--levels", "1" } : []]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, flag, "too large");
        Assert.False(Directory.Exists(store) && Directory.EnumerateFileSystemEntries(store).Any(e => !Path.GetFileName(e).StartsWith('.')));
    }

    [Fact]
    public void Step_spec_past_its_bounds__never_wraps_around()
    {
        Assert.False(TicketLab.Foundations.StepSpec.TryParse("1152921504606846977ep", out _));
        Assert.True(TicketLab.Foundations.StepSpec.TryParse($"{TicketLab.Foundations.StepSpec.MaxEpochs}ep", out var largest));
        Assert.Equal(TicketLab.Foundations.StepSpec.MaxEpochs * 60_000, largest.ToStep(60_000).Iteration);
        Assert.Throws<OverflowException>(() => new TicketLab.Foundations.StepSpec(long.MaxValue / 2, 0).ToStep(8));
    }

    // ---- 6. replicate numbers below 1 ----

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public void Replicate_below_1__usage_error_and_no_run(string replicate)
    {
        var (code, _, error) = Run(["train", .. Recipe("1ep", "--replicate", replicate)]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, "--replicate", "at least 1");
        Assert.False(Directory.Exists(store) && Directory.EnumerateDirectories(store).Any());
    }

    // ---- 7. a damaged metrics.csv of a finished level ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Metrics_cut_or_deleted__report_names_the_file(bool delete)
    {
        var layout = Lottery(1);
        string metrics = layout.Main(1).MetricsPath;
        if (delete) File.Delete(metrics);
        else File.WriteAllText(metrics, File.ReadAllText(metrics)[..(int)(new FileInfo(metrics).Length / 2)]);

        var (code, _, error) = Run("report", "--root", store, Path.GetFileName(Path.GetDirectoryName(layout.Path)!));

        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, metrics, delete ? "is missing" : "differs from what the run wrote");
    }

    // ---- 8. pruned to nothing ----

    [Fact]
    public void Sparsity_that_empties_the_network__usage_error_before_anything_trains()
    {
        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", "1", "--one-shot-sparsity", "0.9999999", "--pruning-layers-to-ignore", "none"]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, "--one-shot-sparsity", "no weights left");
        Assert.False(Directory.Exists(store) && Directory.EnumerateDirectories(store, "lottery_*").Any());
    }

    [Fact]
    public void Global_pruning_that_empties_one_layer__refused_naming_the_layer()
    {
        var pruning = new PruningHparams { PruningLayersToIgnore = "none" };
        using var model = TicketLab.Models.ModelRegistry.Create(TestRuns.TinyLenet().Model, new TicketLab.Models.InputSpec(1, 28, 28, 10), 1);
        using var dense = TicketLab.Pruning.Mask.Ones(model);
        // The output layer's weights are far smaller than the others': global pruning takes all of them first.
        var trained = model.NamedParameterMap().ToDictionary(p => p.Key, p => p.Key == "fc.weight" ? p.Value.detach().mul(1e-6) : p.Value.detach());
        var error = Assert.Throws<HparamException>(() => TicketLab.Pruning.Pruner.Next(pruning, model, trained, dense, 0.9));
        Assert.Contains("fc.weight", error.Message);
        Assert.Contains("disconnected", error.Message);
    }

    // ---- also ----

    [Fact]
    public void Store_root_that_is_a_file__list_refuses_instead_of_showing_an_empty_store()
    {
        File.WriteAllText(temp.Combine("afile"), "");
        var (code, _, error) = Run("list", "--root", temp.Combine("afile"));
        Assert.Equal(CommandErrors.DataError, code);
        AssertOneLineError(error, temp.Combine("afile"), "is a file");
    }

    [Theory]
    [InlineData("--save-steps", "5ep")]
    [InlineData("--eval-steps", "100it")]
    public void Steps_past_the_end__usage_error_not_silently_ignored(string flag, string value)
    {
        var (code, _, error) = Run(["train", .. Recipe("1ep", flag, value)]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, flag, "past the end");
    }

    [Fact]
    public void Threads_beyond_an_int__one_line_without_a_type_name()
    {
        var (code, _, error) = Run(["train", .. Recipe("1ep", "--threads", "99999999999")]);
        Assert.Equal(CommandErrors.UsageError, code);
        AssertOneLineError(error, "--threads", "too large");
    }

    [Fact]
    public void One_shot_lottery__says_it_runs_one_level()
    {
        var (code, output, error) = Run(["lottery", .. Recipe("1ep"), "--one-shot-sparsity", "0.5", "--levels", "3"]);
        Assert.True(code == 0, error);
        Assert.Contains("1 level (one-shot pruning", output + error);
        Assert.DoesNotContain("3 level(s)", output + error);
    }

    [Fact]
    public void Instability_whose_copy_diverged__listed_as_diverged_not_partial()
    {
        var (code, _, _) = Run(["instability", .. Recipe("1ep", "--lr", "1e6")]);
        Assert.Equal(CommandErrors.Diverged, code);
        var (listCode, listing, _) = Run("list", "--root", store);
        Assert.Equal(0, listCode);
        var row = listing.Split('\n').Single(l => l.Contains("instability_"));
        Assert.Contains("diverged", row);
        Assert.DoesNotContain("partial", row);
    }

    [Fact]
    public void Every_file_a_finished_run_wrote__is_in_its_manifest_with_its_checksum()
    {
        var layout = Lottery(1);
        var level = layout.Main(1);
        var manifest = RunManifest.Read(level.Path)!;
        Assert.Equal(Path.GetRelativePath(store, level.Path), manifest.Run);
        foreach (var file in new[] { level.HparamsPath, level.MetricsPath, level.SummaryPath, level.FinalModelPath, layout.MaskPath(1), layout.MaskSummaryPath(1) })
            Assert.Equal(Sha(file), manifest.Files[Path.GetRelativePath(level.Path, file)]);
        Assert.Contains(manifest.Inputs, i => i.Name == "../../level_0/main/models/model_final.bin");
        Assert.Equal(["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
            manifest.DataFiles.Select(d => d.Name).Order());
    }

    [Fact]
    public void A_run_without_a_manifest__still_reads()
    {
        Assert.Equal(0, Run(["train", .. Recipe("1ep")]).Code);
        var run = new RunFolder(Path.Combine(store, TestRuns.TinyLenet("1ep").RunName, "replicate_1"));
        File.Delete(run.ManifestPath);
        Assert.NotNull(TrainingSummary.Read(run));
        var (code, listing, _) = Run("list", "--root", store);
        Assert.Equal(0, code);
        Assert.Contains("finished", listing);
        Assert.Equal(0, Run(["train", .. Recipe("1ep")]).Code);
    }

    [Fact]
    public void A_run_another_process_is_writing__reads_as_unfinished__not_as_damaged()
    {
        // A finished run, then the moment its writer has recorded summary.json in the manifest but not yet
        // written it (how TrainingRunner.Finish orders the two), with the writer's lock held.
        Assert.Equal(0, Run(["train", .. Recipe("1ep")]).Code);
        var run = new RunFolder(Path.Combine(store, TestRuns.TinyLenet("1ep").RunName, "replicate_1"));
        string summary = File.ReadAllText(run.SummaryPath);
        File.Delete(run.SummaryPath);
        using (OtherProcessHoldsTheLock(run.Path))
        {
            Assert.Null(TrainingSummary.Read(new RunFolder(run.Path)));
            var (code, listing, error) = Run("list", "--root", store);
            Assert.True(code == 0, error);
            Assert.Contains("running", listing);
        }
        // Without a writer, the same files are damage, named as before.
        var missing = Assert.Throws<RunIntegrityException>(() => TrainingSummary.Read(new RunFolder(run.Path)));
        Assert.Contains("summary.json: is missing", missing.Message);

        // A reader that read the manifest before the writer rewrote a file and recorded it again checks the file against the manifest as it is now.
        File.WriteAllText(run.SummaryPath, summary);
        var reader = new RunFolder(run.Path);
        Assert.NotNull(reader.Manifest);
        var writer = new RunFolder(run.Path);
        writer.BeginManifest(writer.Manifest!.Run);
        writer.WriteRecordedJson(run.SummaryPath, System.Text.Json.Nodes.JsonNode.Parse(summary.Replace("\"iterations\"", "\"note\": 1, \"iterations\""))!);
        Assert.NotNull(TrainingSummary.Read(reader));
        // The manifest does not vouch for a file edited behind its back.
        File.WriteAllText(run.SummaryPath, summary);
        Assert.Throws<RunIntegrityException>(() => TrainingSummary.Read(new RunFolder(run.Path)));
    }

    [Fact]
    public void A_writer_is_not_refused_because_another_process_probed_its_lock_for_a_moment()
    {
        string folder = temp.Combine("probed");
        var probe = OtherProcessHoldsTheLock(folder);
        var release = new Thread(() => { Thread.Sleep(20); probe.Dispose(); });
        release.Start();
        using (var writer = RunLock.Acquire(folder)) Assert.False(RunLock.IsHeldElsewhere(folder)); // its own lock is not another writer's
        release.Join();
        // Probes do not refuse each other: one process's status read never shows another's probe as a running run.
        using (new FileStream(Path.Combine(folder, "run.lock"), FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite)) // how IsHeld probes
            Assert.False(RunLock.IsHeld(folder));
        // A lock held for longer than a probe is still refused, naming the holder.
        using var held = OtherProcessHoldsTheLock(folder);
        Assert.Throws<RunLockedException>(() => RunLock.Acquire(folder));
        Assert.True(RunLock.IsHeldElsewhere(folder));
    }

    /// <summary>The lock of a run folder as another process holds it (an exclusive lock this process's <see cref="RunLock"/> did not take).</summary>
    private static FileStream OtherProcessHoldsTheLock(string folder)
    {
        Directory.CreateDirectory(folder);
        return new FileStream(Path.Combine(folder, "run.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
    }

    [Fact]
    public void Store_notices__are_said_once_per_key()
    {
        string key = Guid.NewGuid().ToString();
        Assert.True(StoreNotices.Once(key, "first"));
        Assert.False(StoreNotices.Once(key, "second"));
        Assert.True(StoreNotices.Once(key + "-other", "third"));
    }

    [Fact]
    public void Report_and_export_signalled_while_they_work__finish_their_output_and_exit_with_the_signals_code()
    {
        var (code, _, error) = Run(["lottery", .. Recipe("1ep"), "--levels", "1"]);
        Assert.True(code == 0, error);
        string run = Path.GetFileName(Directory.EnumerateDirectories(store, "lottery_*").Single());
        foreach (var command in new[] { new[] { "report", run, "--root", store }, ["export", run, "--level", "1", "--root", store, "--out", temp.Combine("exported")] })
        {
            // The signal has come (Ctrl-C) by the time the command looks: it does not stop half-way, and says so in its code.
            using var stop = new CancellationTokenSource();
            stop.Cancel();
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int signalled = CliApp.Run(command, CliEnvironment.ForTests(stdout, stderr, stop.Token));
            Assert.Equal(CommandErrors.Interrupted, signalled);
            Assert.Contains("Interrupted after the command finished its work; its output is complete.", stderr.ToString());
        }
        Assert.True(File.Exists(Path.Combine(store, run, "report", "index.html")));
        Assert.True(File.Exists(Path.Combine(temp.Combine("exported"), "mask.pth")));
    }
}
