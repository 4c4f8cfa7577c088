using System.Text.Json.Nodes;
using TicketLab.Data;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Models;
using TicketLab.Store;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// Trains several runs of one architecture on the same data together, as one stacked model
/// (<see cref="StackedModel"/>): each keeps its own initialization, mask, data order and optimizer
/// state, and is written to its folder exactly as <see cref="TrainingRunner"/> writes a lone run
/// (the same callbacks, files and checkpoints), with the grouping recorded in provenance.json.
/// A stacked run differs from a lone one only by the rounding of batched products and of the
/// loss's mean; runs that cannot be stacked (another architecture, a loss term, bf16, members at
/// different checkpoints) are trained alone.
/// </summary>
public static class StackedTraining
{
    /// <summary>Networks per stack unless <c>--networks-per-process</c> says otherwise.</summary>
    public const int DefaultNetworks = 8;

    /// <summary>Trains every job, those that can train together in stacks of at most <see cref="RunOptions.NetworksPerProcess"/>; summaries in the jobs' order.</summary>
    public static IReadOnlyList<TrainingSummary> TrainAll(IReadOnlyList<TrainingJob> jobs, RunOptions options, RunContext context)
    {
        var summaries = new TrainingSummary[jobs.Count];
        foreach (var group in Groups(jobs, options.NetworksPerProcess))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var trained = group.Length == 1 ? [jobs[group[0]].TrainAlone(options, context)] : Train(group.Select(i => jobs[i]).ToArray(), options, context);
            for (int k = 0; k < group.Length; k++) summaries[group[k]] = trained[k];
        }
        return summaries;
    }

    /// <summary>
    /// The jobs' indices in groups to train together: unfinished runs of one recipe but for their
    /// seeds, starting at one step, of a stackable architecture, at most <paramref name="size"/> at
    /// once; every other job alone. Groups come in the order of their first job.
    /// </summary>
    public static IReadOnlyList<int[]> Groups(IReadOnlyList<TrainingJob> jobs, int size)
    {
        var keyed = new Dictionary<string, List<int>>();
        var order = new List<(string? Key, int Job)>();
        for (int i = 0; i < jobs.Count; i++)
        {
            string? key = size > 1 ? StackKey(jobs[i]) : null;
            if (key is not null && keyed.TryGetValue(key, out var members)) members.Add(i);
            else
            {
                if (key is not null) keyed[key] = [i];
                order.Add((key, i));
            }
        }
        return order.SelectMany(o => o.Key is null ? [[o.Job]] : keyed[o.Key].Chunk(size)).ToArray();
    }

    /// <summary>What jobs that train together share; null for a job that trains alone.</summary>
    private static string? StackKey(TrainingJob job)
    {
        var desc = job.Desc;
        if (!StackedModel.Supports(desc.Model.ModelName) || desc.Training.Autocast != AutocastDtype.None || job.Start?.LossTerm is not null) return null;
        if (TrainingSummary.Read(job.Folder) is not null) return null; // finished: read back alone
        var seedless = new TrainingDesc(desc.Dataset, desc.Model with { ModelInitSeed = null }, desc.Training with { DataOrderSeed = null });
        return $"{seedless.ToJson().ToJsonString()} from {job.Start?.StartStep ?? default}";
    }

    /// <summary>Trains one group as one stack, or each of its jobs alone when they turn out not to fit together.</summary>
    private static TrainingSummary[] Train(TrainingJob[] jobs, RunOptions options, RunContext context)
    {
        foreach (var job in jobs) job.Desc.Validate();
        var desc = jobs[0].Desc;
        var (train, test) = context.Data.Get(desc.Dataset.DatasetName, desc.Dataset.TrainSubset, context.Device);
        var locks = new List<RunLock>();
        var members = new List<Member>();
        StackedModel? model = null;
        OptimizerHelper? optimizer = null;
        try
        {
            foreach (var job in jobs) locks.Add(TrainingRunner.AcquireLock(job.Folder, context));
            if (jobs.Any(j => TrainingSummary.Read(j.Folder) is not null)) return Alone(); // finished by another process meanwhile

            foreach (var job in jobs) members.Add(new Member(job, TrainingSetup.Create(job.Desc, job.Replicate, train, context.Device, job.Start, options.StopAt)));
            if (members.Any(m => m.Setup.Constraint is not (null or IMaskConstraint))) return Alone();
            model = StackedModel.TryCreate(members.Select(m => m.Setup.Model).ToArray());
            if (model is null) return Alone();
            optimizer = OptimizerFactory.Create(desc.Training, model.parameters(), fused: true);
            var optimizerState = new StackedOptimizerState(optimizer, model.StackedParameters.Select(p => p.Name).ToArray(),
                members.Select(m => m.Setup.Optimizer).ToArray(), members.Select(m => (IReadOnlyList<string>)m.Setup.Model.named_parameters().Select(p => p.name).ToArray()).ToArray());

            var dataFiles = TrainingRunner.DataFilesOf(train, test);
            foreach (var m in members)
                m.Run = TrainingRunner.OpenRun(m.Job.Folder, m.Job.Desc, m.Job.Replicate, m.Setup, options, context, dataFiles, m.Job.Start, m.Job.ExtraHparams);
            TrainingRunner.AnnounceData(context, dataFiles);

            // Checkpoints load into the members' models, whose tensors are the stack's slices by now.
            foreach (var m in members) (m.First, m.KeepRows) = TrainingRunner.Resume(m.Job.Folder, m.Run, m.Setup, m.Resumables, context);
            if (members.Any(m => m.First != members[0].First))
            {
                context.Log.WriteLine($"The runs of this group stopped at different steps ({string.Join(", ", members.Select(m => m.First.Iteration))}); each resumes alone.");
                return Alone();
            }
            optimizerState.Gather();

            var group = new JsonArray(jobs.Select(j => (JsonNode)j.Folder.Path).ToArray());
            for (int i = 0; i < members.Count; i++)
                members[i].Start(options, context, train, test, dataFiles,
                    new JsonObject { ["networks"] = members.Count, ["index"] = i, ["group"] = group.DeepClone() });
            var masks = StackedMasks(model, members);
            try
            {
                RunLoop(members, model, optimizer, optimizerState, masks, context.Cancellation);
            }
            finally
            {
                foreach (var (_, mask) in masks) mask.Dispose();
            }
            return members.Select(m => m.Finish()).ToArray();
        }
        catch (OperationCanceledException)
        {
            foreach (var m in members) m.Provenance?.End("interrupted", null);
            throw;
        }
        catch
        {
            foreach (var m in members) m.Provenance?.End("failed", null);
            throw;
        }
        finally
        {
            optimizer?.Dispose();
            model?.Dispose();
            foreach (var m in members) m.Dispose();
            foreach (var held in locks) held.Dispose();
        }

        TrainingSummary[] Alone()
        {
            foreach (var m in members) m.Dispose();
            members.Clear();
            foreach (var held in locks) held.Dispose();
            locks.Clear();
            return jobs.Select(j => j.TrainAlone(options, context)).ToArray();
        }
    }

    /// <summary>For each stacked parameter that some member masks: the members' masks stacked (ones where a member has none).</summary>
    private static (Parameter Parameter, Tensor Mask)[] StackedMasks(StackedModel model, IReadOnlyList<Member> members)
    {
        var masks = new List<(Parameter, Tensor)>();
        foreach (var (name, parameter) in model.StackedParameters)
        {
            var perMember = members.Select(m => (m.Setup.Constraint as IMaskConstraint)?.Masks.GetValueOrDefault(name)).ToArray();
            if (perMember.All(mask => mask is null)) continue;
            using var scope = NewDisposeScope();
            var shape = parameter.shape[1..];
            var stacked = stack(perMember.Select(mask => mask ?? ones(shape, parameter.dtype, parameter.device)).ToArray()).to(parameter.dtype);
            masks.Add((parameter, stacked.DetachFromDisposeScope()));
        }
        return [.. masks];
    }

    /// <summary>
    /// <see cref="TrainingLoop.Run"/> for a stack: the members' callbacks around one stacked step.
    /// A member whose loss or weights stop being finite ends there (as a lone run would) while the
    /// others go on; its slice gets no gradient from then on.
    /// </summary>
    private static void RunLoop(List<Member> members, StackedModel model, OptimizerHelper optimizer, StackedOptimizerState optimizerState,
        (Parameter Parameter, Tensor Mask)[] masks, CancellationToken cancellation)
    {
        var first = members[0].First;
        var end = members[0].Setup.End;
        var hparams = members[0].Job.Desc.Training;
        var schedule = new LearningRateSchedule(hparams, members[0].Setup.IterationsPerEpoch);
        var batches = members.Select(m => m.Setup.Batches).ToArray();
        int networks = members.Count;
        model.train();
        foreach (var m in members) m.Setup.Model.train();

        void Diverge(Member member, Divergence divergence)
        {
            optimizerState.Scatter(member.Index); // its checkpoint keeps the optimizer state of its last finite weights
            member.Diverge(divergence);
        }

        for (var step = first; ; step = step.Next)
        {
            var active = members.Where(m => m.Divergence is null).ToArray();
            foreach (var m in active) m.State.Step = step;
            if (step.IsEpochStart && step > first)
                foreach (var m in active.Where(m => !ParametersAreFinite(m.Setup.Model)))
                    Diverge(m, new Divergence(step, double.NaN, "the weights are no longer finite"));
            active = members.Where(m => m.Divergence is null).ToArray();
            if (active.Length == 0) return;
            if (step.IsEpochStart && step < end)
                foreach (var m in active) optimizerState.Scatter(m.Index); // for the checkpoint written at this step
            ForEachCallback(active, (callback, m) => callback.AtStep(m.State));
            if (step >= end) return;
            if (cancellation.IsCancellationRequested)
            {
                foreach (var m in active) optimizerState.Scatter(m.Index);
                ForEachCallback(active, (callback, m) => callback.OnInterrupted(m.State));
                cancellation.ThrowIfCancellationRequested();
            }

            double lr = schedule.At(step);
            var results = new IterationResult?[networks];
            using (var scope = NewDisposeScope())
            {
                var (images, labels) = TrainingBatches.Stacked(batches, step);
                OptimizerFactory.SetLearningRate(optimizer, lr);
                OptimizerFactory.ClearGradients(optimizer);
                var logits = model.forward(images);
                var losses = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction: nn.Reduction.None).view(networks, -1).mean([1]);
                var lossValues = losses.detach().cpu().data<float>().ToArray();
                foreach (var m in active.Where(m => !float.IsFinite(lossValues[m.Index])))
                    Diverge(m, new Divergence(step, lossValues[m.Index], $"the training loss is {lossValues[m.Index]}"));
                active = members.Where(m => m.Divergence is null).ToArray();
                if (active.Length == 0) return;
                NativeAllocator.AfterForwardPass();
                var total = active.Length == networks ? losses.sum() : losses.index_select(0, tensor(active.Select(m => (long)m.Index).ToArray(), device: losses.device)).sum();
                total.backward();
                foreach (var (parameter, mask) in masks)
                {
                    using var grad = parameter.grad;
                    grad?.mul_(mask);
                }
                optimizer.step();
                using var _ = no_grad();
                var correct = logits.argmax(2).eq(labels).sum([1]).cpu().data<long>().ToArray();
                long examples = labels.shape[1];
                foreach (var m in active) results[m.Index] = new IterationResult(step, lossValues[m.Index], correct[m.Index], examples, lr);
            }
            ForEachCallback(active, (callback, m) => callback.AfterIteration(m.State, results[m.Index]!.Value));
        }
    }

    /// <summary>
    /// Calls the members' callbacks position by position (every member's first, then every member's
    /// second, ...): each member's run in its own order, and the timing callbacks, last in every
    /// list, start their clocks after all members' evaluations, so these are not counted as training.
    /// </summary>
    private static void ForEachCallback(Member[] members, Action<ITrainingCallback, Member> call)
    {
        int most = members.Max(m => m.Callbacks.Count);
        for (int position = 0; position < most; position++)
            foreach (var m in members)
                if (position < m.Callbacks.Count) call(m.Callbacks[position], m);
    }

    private static bool ParametersAreFinite(TicketModel model)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        return model.parameters().All(p => p.isfinite().all().item<bool>());
    }

    /// <summary>One run of a stack: its lone setup (whose model's tensors are slices of the stack), its callbacks, metrics and provenance.</summary>
    private sealed class Member(TrainingJob job, TrainingSetup setup) : IDisposable
    {
        private MetricsLog? metrics;
        private EvaluationCallback? testEvaluation;
        private TimingCallback? timing;
        private readonly TrainingMetricsCallback trainingMetrics = new();

        public TrainingJob Job { get; } = job;
        public TrainingSetup Setup { get; } = setup;
        /// <summary>The run's name in the store, as its manifest and checkpoints carry it.</summary>
        public string Run { get; set; } = "";
        public int Index { get; private set; } = -1;
        public IResumableCallback[] Resumables => [trainingMetrics];
        public Step First { get; set; }
        public int KeepRows { get; set; }
        public TrainingState State { get; private set; } = null!;
        public IReadOnlyList<ITrainingCallback> Callbacks { get; private set; } = [];
        public Provenance? Provenance { get; private set; }
        public Divergence? Divergence { get; private set; }

        /// <summary>Opens the metrics log, makes the callbacks a lone run would have and records the session's start.</summary>
        public void Start(RunOptions options, RunContext context, ImageDataset train, ImageDataset test, DataFile[] dataFiles, JsonObject stacked)
        {
            Index = (int)stacked["index"]!;
            metrics = new MetricsLog(Job.Folder.MetricsPath);
            metrics.Open(KeepRows);
            trainingMetrics.Log = metrics;
            var (callbacks, evaluation, time) = TrainingRunner.BuildCallbacks(Job.Folder, Run, options, context, Setup, train, test, metrics, Resumables, trainingMetrics);
            (Callbacks, testEvaluation, timing) = (callbacks, evaluation, time);
            State = new TrainingState { Model = Setup.Model, Optimizer = Setup.Optimizer, End = Setup.End, Step = First };
            Provenance = Provenance.Begin(Job.Folder, context.Device, dataFiles, First, stacked);
        }

        public void Diverge(Divergence divergence)
        {
            foreach (var callback in Callbacks) callback.OnDiverged(State, divergence.Loss);
            Divergence = divergence;
        }

        /// <summary>Writes summary.json and ends the session, as <see cref="TrainingRunner"/> does.</summary>
        public TrainingSummary Finish()
        {
            var summary = TrainingRunner.Finish(Job.Folder, TrainingRunner.Summarize(Job.Folder, Setup, metrics!, testEvaluation!, timing!, Divergence), Divergence, Provenance!);
            Provenance = null;
            return summary;
        }

        public void Dispose()
        {
            metrics?.Dispose();
            metrics = null;
            Setup.Dispose();
        }
    }
}
