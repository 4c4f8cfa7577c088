using System.Diagnostics;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Training;

public sealed class TrainingRunTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public TrainingRunTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static void AssertSameWeights(string expectedPath, string actualPath)
    {
        var expected = TensorFile.Load(expectedPath);
        var actual = TensorFile.Load(actualPath);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True(tensor.eq(actual[name]).all().item<bool>(), $"{name} differs");
    }

    [Fact]
    public void Same_seeds_give_bit_identical_weights_and_a_new_data_order_does_not()
    {
        var desc = TestRuns.TinyLenet("3ep");
        var a = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("a"), data));
        var b = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("b"), data));
        AssertSameWeights(Path.Combine(a.Folder, "models", "model_final.bin"), Path.Combine(b.Folder, "models", "model_final.bin"));

        var reordered = desc with { Training = desc.Training with { DataOrderSeed = 99 } };
        var c = TrainingRunner.Train(reordered, 1, new RunOptions(), TestRuns.Context(temp.Combine("c"), data));
        var init = TensorFile.Load(Path.Combine(a.Folder, "models", "model_ep0_it0.bin"));
        var initC = TensorFile.Load(Path.Combine(c.Folder, "models", "model_ep0_it0.bin"));
        Assert.True(init["fc.weight"].eq(initC["fc.weight"]).all().item<bool>(), "the model seed is shared, so the initializations match");
        var final = TensorFile.Load(Path.Combine(a.Folder, "models", "model_final.bin"));
        var finalC = TensorFile.Load(Path.Combine(c.Folder, "models", "model_final.bin"));
        Assert.False(final["fc.weight"].eq(finalC["fc.weight"]).all().item<bool>());
    }

    [Fact]
    public void A_bf16_autocast_run_learns_as_well_records_its_precision_and_is_a_different_experiment()
    {
        var exact = TestRuns.TinyLenet("4ep");
        var mixed = exact with { Training = exact.Training with { Autocast = AutocastDtype.Bf16 } };
        Assert.NotEqual(exact.RunName, mixed.RunName);
        var a = TrainingRunner.Train(exact, 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        var b = TrainingRunner.Train(mixed, 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        Assert.True(b.FinalTestAccuracy > 0.9, $"accuracy {b.FinalTestAccuracy}");
        Assert.True(Math.Abs(a.FinalTestAccuracy - b.FinalTestAccuracy) < 0.05, $"float32 {a.FinalTestAccuracy}, bf16 {b.FinalTestAccuracy}");
        Assert.Equal("bf16", (string)new RunFolder(b.Folder).ReadHparams()!["training"]!["autocast"]!);
        var weights = TensorFile.Load(Path.Combine(b.Folder, "models", "model_final.bin"));
        Assert.All(weights.Values, w => Assert.Equal(ScalarType.Float32, w.dtype));
        var exactWeights = TensorFile.Load(Path.Combine(a.Folder, "models", "model_final.bin"));
        Assert.False(weights["fc.weight"].eq(exactWeights["fc.weight"]).all().item<bool>(), "bf16 steps round differently");
        Assert.Null(TicketLab.Models.Autocast.Active);
    }

    [Fact]
    public void A_run_learns_and_writes_metrics_summary_and_saved_steps()
    {
        var desc = TestRuns.TinyLenet("4ep");
        var summary = TrainingRunner.Train(desc, 2, new RunOptions { SaveSteps = [StepSpec.Parse("5it")], EvaluateSteps = [StepSpec.Parse("3it")] },
            TestRuns.Context(temp.Combine("store"), data));
        Assert.True(summary.FinalTestAccuracy > 0.9, $"accuracy {summary.FinalTestAccuracy}");
        var folder = new RunFolder(summary.Folder);
        Assert.EndsWith(Path.Combine(desc.RunName, "replicate_2"), folder.Path);
        Assert.True(File.Exists(folder.ModelPath(new Step(5, 8))));
        Assert.False(File.Exists(folder.CheckpointPath));
        var rows = MetricsLog.Read(folder.MetricsPath);
        Assert.Equal([0L, 3, 8, 16, 24, 32], rows.Where(r => r.Name == "test_accuracy").Select(r => r.Step));
        Assert.Equal(summary.FinalTestAccuracy, rows.Last(r => r.Name == "test_accuracy").Value);
        Assert.Equal(rows.Where(r => r.Name == "test_accuracy").Max(r => r.Value), summary.BestTestAccuracy);
        Assert.Equal(2, (int)folder.ReadHparams()!["data_order_seed"]!);
        Assert.True(summary.ImagesPerSecond > 0);
    }

    [Fact]
    public void A_finished_run_is_not_run_again()
    {
        var desc = TestRuns.TinyLenet("1ep");
        var first = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "metrics.csv"));
        var second = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        Assert.True(second.AlreadyFinished);
        Assert.Equal(first.FinalTestAccuracy, second.FinalTestAccuracy);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "metrics.csv")));
    }

    [Fact]
    public void Cancelled_run_resumes_to_exactly_the_uninterrupted_weights()
    {
        var desc = TestRuns.TinyLenet("3ep");
        var reference = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("reference"), data));

        using var cancellation = new CancellationTokenSource();
        var interrupted = TestRuns.Context(temp.Combine("resumed"), data, cancellation.Token,
            (_, _, _) => [new CancelAt(13, cancellation)]);
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRunner.Train(desc, 1, new RunOptions(), interrupted));
        var folder = new RunFolder(Path.Combine(temp.Combine("resumed"), desc.RunName, "replicate_1"));
        Assert.True(File.Exists(folder.CheckpointPath));
        Assert.Equal(RunState.Partial, folder.State);

        var resumed = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("resumed"), data));
        AssertSameWeights(Path.Combine(reference.Folder, "models", "model_final.bin"), Path.Combine(resumed.Folder, "models", "model_final.bin"));
        // Row for row, the mid-epoch training loss included: the resumed epoch's mean covers the whole epoch.
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Folder, "metrics.csv")), File.ReadAllText(folder.MetricsPath));
    }

    [Fact]
    public void Killed_process_resumes_from_its_last_checkpoint_to_the_same_weights()
    {
        var desc = TestRuns.TinyLenet("100ep", batch: 16);
        string[] recipe = ["train", "--dataset-name", "mnist", "--batch-size", "16", "--model-name", "lenet_32_16", "--lr", "0.05",
            "--momentum", "0.9", "--weight-decay", "1e-4", "--training-steps", "100ep", "--data-dir", data, "--quiet",
            "--threads", torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var reference = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(temp.Combine("reference"), data));
        string root = temp.Combine("killed");
        var folder = new RunFolder(Path.Combine(root, desc.RunName, "replicate_1"));

        string cli = Path.Combine(AppContext.BaseDirectory, "TicketLab.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { cli }.Concat(recipe).Concat(["--root", root])) start.ArgumentList.Add(arg);
        using (var process = Process.Start(start)!)
        {
            var deadline = Stopwatch.StartNew();
            // Wait for a checkpoint past the first epoch, then kill -9 mid-epoch.
            while (!(File.Exists(folder.CheckpointPath) && File.Exists(folder.MetricsPath)
                     && File.ReadAllText(folder.MetricsPath).Contains("test_accuracy,48,")) && !process.HasExited)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the child run never wrote a checkpoint");
                Thread.Sleep(5);
            }
            Assert.False(process.HasExited, "the child run finished before it could be killed; make it longer");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(folder.IsFinished);

        var resumed = TrainingRunner.Train(desc, 1, new RunOptions(), TestRuns.Context(root, data));
        AssertSameWeights(Path.Combine(reference.Folder, "models", "model_final.bin"), Path.Combine(resumed.Folder, "models", "model_final.bin"));
        // The rows at the checkpoint's step (epoch-end training loss and accuracy) survive the kill too.
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Folder, "metrics.csv")), File.ReadAllText(folder.MetricsPath));
    }

    [Fact]
    public void Two_writers_of_one_run_are_refused_with_a_clear_message()
    {
        string folder = temp.Combine("locked");
        using var held = RunLock.Acquire(folder);
        var error = Assert.Throws<RunLockedException>(() => RunLock.Acquire(folder));
        Assert.Contains(folder, error.Message);
        Assert.Contains($"process {Environment.ProcessId}", error.Message);
    }

    [Fact]
    public void An_epoch_of_training_leaves_no_live_tensors_behind()
    {
        // Whatever a run keeps alive must not grow with its length: 1 epoch and 8 epochs leave the same.
        var desc = TestRuns.TinyLenet("1ep");
        var context = TestRuns.Context(temp.Combine("warm"), data);
        TrainingRunner.Train(desc, 1, new RunOptions(), context); // loads the data once
        long LiveAfter(string steps)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            TrainingRunner.Train(desc with { Training = desc.Training with { TrainingSteps = StepSpec.Parse(steps) } }, 1, new RunOptions(),
                new RunContext { Store = new ExperimentStore(temp.Combine(steps)), Data = context.Data });
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }
        long shortRun = LiveAfter("1ep");
        long longRun = LiveAfter("8ep");
        Assert.Equal(shortRun, longRun);
    }
}
