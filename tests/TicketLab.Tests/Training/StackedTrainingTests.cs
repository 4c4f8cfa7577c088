using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;
using static TorchSharp.torch;

namespace TicketLab.Tests.Training;

public sealed class StackedTrainingTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string data;

    public StackedTrainingTests() => data = LearnableData.WriteMnist(temp.Combine("data"));

    public void Dispose() => temp.Dispose();

    private static TrainingDesc Adam(string steps) => TestRuns.TinyLenet(steps, batch: 20) with
    {
        Training = TestRuns.TinyLenet(steps).Training with { OptimizerName = OptimizerName.Adam, Lr = 2e-3, Momentum = 0, WeightDecay = 1e-4 },
    };

    private static TrainingJob[] Jobs(RunContext context, TrainingDesc desc, params int[] replicates) =>
        replicates.Select(r => new TrainingJob(new RunFolder(context.Store.ReplicateFolder(desc.RunName, r)), desc, r)).ToArray();

    /// <summary>Largest |a - b| over the tensor, relative to its largest |b|.</summary>
    private static double RelativeDifference(Tensor a, Tensor b) =>
        (a - b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-12);

    private static void AssertClose(string expectedPath, string actualPath, double tolerance)
    {
        var expected = TensorFile.Load(expectedPath);
        var actual = TensorFile.Load(actualPath);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            double difference = RelativeDifference(actual[name], tensor);
            Assert.True(difference <= tolerance, $"{name} of {actualPath}: relative difference {difference:G3}");
        }
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Stacked_networks_match_lone_runs_within_float_rounding_in_the_same_files(string optimizer)
    {
        var desc = optimizer == "sgd" ? TestRuns.TinyLenet("2ep") : Adam("2ep");
        var options = new RunOptions { SaveSteps = [StepSpec.Parse("3it")] };
        var lone = TestRuns.Context(temp.Combine("lone"), data);
        var stackedContext = TestRuns.Context(temp.Combine("stacked"), data);
        var loneSummaries = new[] { 1, 2, 3 }.Select(r => TrainingRunner.Train(desc, r, options, lone)).ToArray();
        var stacked = StackedTraining.TrainAll(Jobs(stackedContext, desc, 1, 2, 3), options, stackedContext);

        for (int i = 0; i < 3; i++)
        {
            var (a, b) = (new RunFolder(loneSummaries[i].Folder), new RunFolder(stacked[i].Folder));
            Assert.Equal(Directory.EnumerateFiles(Path.Combine(a.Path, "models")).Select(Path.GetFileName).Order(),
                Directory.EnumerateFiles(Path.Combine(b.Path, "models")).Select(Path.GetFileName).Order());
            // The initialization is the lone run's, bit for bit; training differs by rounding only.
            AssertClose(Path.Combine(a.Path, "models", "model_ep0_it0.bin"), Path.Combine(b.Path, "models", "model_ep0_it0.bin"), 0);
            AssertClose(a.FinalModelPath, b.FinalModelPath, 1e-4);
            var (rowsA, rowsB) = (MetricsLog.Read(a.MetricsPath), MetricsLog.Read(b.MetricsPath));
            Assert.Equal(rowsA.Select(r => (r.Name, r.Step)), rowsB.Select(r => (r.Name, r.Step)));
            foreach (var (x, y) in rowsA.Zip(rowsB)) Assert.True(Math.Abs(x.Value - y.Value) <= 1e-3 * Math.Max(1, Math.Abs(x.Value)), $"{x} against {y}");
            Assert.Equal(loneSummaries[i].FinalTestAccuracy, stacked[i].FinalTestAccuracy, 2);

            var hparamsA = a.ReadHparams()!;
            var hparamsB = b.ReadHparams()!;
            Assert.Equal(hparamsA.ToJsonString(), hparamsB.ToJsonString());
            Assert.False(File.Exists(b.CheckpointPath));
            var session = JsonNode.Parse(File.ReadAllText(b.ProvenancePath))!["sessions"]![0]!;
            Assert.Equal(3, (int)session["stacked"]!["networks"]!);
            Assert.Equal(i, (int)session["stacked"]!["index"]!);
            Assert.Equal(stacked.Select(s => s.Folder), session["stacked"]!["group"]!.AsArray().Select(n => (string)n!));
            Assert.Null(JsonNode.Parse(File.ReadAllText(a.ProvenancePath))!["sessions"]![0]!["stacked"]);
        }
        // Different seeds, different networks: the stack did not mix them up.
        Assert.NotEqual(loneSummaries[0].FinalTestLoss, loneSummaries[1].FinalTestLoss);
    }

    [Fact]
    public void An_interrupted_stack_resumes_from_its_members_checkpoints_to_the_same_weights()
    {
        var desc = Adam("3ep");
        var reference = TestRuns.Context(temp.Combine("reference"), data);
        var expected = StackedTraining.TrainAll(Jobs(reference, desc, 1, 2), new RunOptions(), reference);

        using var cancel = new CancellationTokenSource();
        var interrupted = TestRuns.Context(temp.Combine("resumed"), data, cancel.Token, (_, _, _) => [new CancelAt(20, cancel)]);
        Assert.ThrowsAny<OperationCanceledException>(() => StackedTraining.TrainAll(Jobs(interrupted, desc, 1, 2), new RunOptions(), interrupted));
        var resumedContext = TestRuns.Context(temp.Combine("resumed"), data);
        Assert.All(Jobs(resumedContext, desc, 1, 2), j => Assert.True(File.Exists(j.Folder.CheckpointPath)));
        var resumed = StackedTraining.TrainAll(Jobs(resumedContext, desc, 1, 2), new RunOptions(), resumedContext);

        for (int i = 0; i < 2; i++)
        {
            // The same grouping gives the same weights, interrupted or not.
            AssertClose(new RunFolder(expected[i].Folder).FinalModelPath, new RunFolder(resumed[i].Folder).FinalModelPath, 0);
            Assert.Equal(MetricsLog.Read(new RunFolder(expected[i].Folder).MetricsPath).Select(r => (r.Name, r.Step, r.Value)),
                MetricsLog.Read(new RunFolder(resumed[i].Folder).MetricsPath).Select(r => (r.Name, r.Step, r.Value)));
            var sessions = JsonNode.Parse(File.ReadAllText(new RunFolder(resumed[i].Folder).ProvenancePath))!["sessions"]!.AsArray();
            Assert.Equal(["interrupted", "finished"], sessions.Select(s => (string)s!["outcome"]!));
        }
    }

    [Fact]
    public void Members_stopped_at_different_steps_resume_alone()
    {
        var desc = Adam("2ep");
        using var cancel = new CancellationTokenSource();
        var interrupted = TestRuns.Context(temp.Combine("store"), data, cancel.Token, (_, _, _) => [new CancelAt(15, cancel)]);
        Assert.ThrowsAny<OperationCanceledException>(() => StackedTraining.TrainAll(Jobs(interrupted, desc, 1, 2), new RunOptions(), interrupted));
        var log = new StringWriter();
        var context = TestRuns.Context(temp.Combine("store"), data) with { Log = log };
        var jobs = Jobs(context, desc, 1, 2);
        File.Delete(jobs[1].Folder.CheckpointPath); // the second restarts from the beginning, the first from step 15

        var summaries = StackedTraining.TrainAll(jobs, new RunOptions(), context);
        Assert.Contains("each resumes alone", log.ToString());
        Assert.All(summaries, s => Assert.False(s.Diverged));
        var sessions = jobs.Select(j => JsonNode.Parse(File.ReadAllText(j.Folder.ProvenancePath))!["sessions"]!.AsArray()).ToArray();
        Assert.Equal(15, (long)sessions[0][^1]!["from_iteration"]!);
        Assert.Equal(0, (long)sessions[1][^1]!["from_iteration"]!);
        Assert.All(sessions, s => Assert.Null(s[^1]!["stacked"]));
    }

    [Fact]
    public void A_member_that_diverges_ends_as_its_lone_run_would_and_the_others_train_on()
    {
        var desc = TestRuns.TinyLenet("2ep");
        // Weights 1e20 times too large: the loss of the first step is not finite.
        using var model = TicketLab.Models.ModelRegistry.Create(desc.Model, new TicketLab.Models.InputSpec(1, 28, 28, 10), 2);
        var huge = ModelState.Snapshot(model).ToDictionary(p => p.Key, p => p.Value * 1e20f);
        var blowUp = new TrainingStart { InitialState = huge };
        var lone = TestRuns.Context(temp.Combine("lone"), data);
        var stackedContext = TestRuns.Context(temp.Combine("stacked"), data);
        var jobsLone = Jobs(lone, desc, 1, 2, 3);
        jobsLone[1] = jobsLone[1] with { Start = blowUp };
        var jobsStacked = Jobs(stackedContext, desc, 1, 2, 3);
        jobsStacked[1] = jobsStacked[1] with { Start = blowUp };
        Assert.Equal([[0, 1, 2]], StackedTraining.Groups(jobsStacked, 8));

        var expected = jobsLone.Select(j => j.TrainAlone(new RunOptions(), lone)).ToArray();
        var stacked = StackedTraining.TrainAll(jobsStacked, new RunOptions(), stackedContext);

        Assert.True(expected[1].Diverged);
        Assert.True(stacked[1].Diverged);
        Assert.Equal(expected[1].DivergedAtStep, stacked[1].DivergedAtStep);
        Assert.True(File.Exists(jobsStacked[1].Folder.CheckpointPath), "a diverged run keeps its checkpoint");
        Assert.Equal("diverged", (string)JsonNode.Parse(File.ReadAllText(jobsStacked[1].Folder.ProvenancePath))!["sessions"]![0]!["outcome"]!);
        foreach (int i in new[] { 0, 2 })
        {
            Assert.False(stacked[i].Diverged);
            AssertClose(new RunFolder(expected[i].Folder).FinalModelPath, new RunFolder(stacked[i].Folder).FinalModelPath, 1e-4);
        }
    }

    [Fact]
    public void Runs_of_other_recipes_finished_runs_and_one_network_per_process_train_alone()
    {
        var context = TestRuns.Context(temp.Combine("groups"), data);
        var a = TestRuns.TinyLenet("1ep");
        var other = a with { Training = a.Training with { Lr = 0.01 } };
        var seeded = a with { Model = a.Model with { ModelInitSeed = 5 } };
        TrainingJob[] jobs = [.. Jobs(context, a, 1, 2), .. Jobs(context, other, 1), .. Jobs(context, seeded, 3)];
        Assert.Equal([[0, 1, 3], [2]], StackedTraining.Groups(jobs, 8));
        Assert.Equal([[0, 1], [3], [2]], StackedTraining.Groups(jobs, 2));
        Assert.Equal([[0], [1], [2], [3]], StackedTraining.Groups(jobs, 1));
        jobs[0].TrainAlone(new RunOptions(), context);
        Assert.Equal([[0], [1, 3], [2]], StackedTraining.Groups(jobs, 8));
    }
}
