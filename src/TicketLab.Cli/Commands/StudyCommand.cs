using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Cli.Studies;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Studies;

namespace TicketLab.Cli.Commands;

/// <summary>
/// <c>ticketlab study run|status|report|unit FILE</c>: a whole study from one TOML file, expanded
/// into units of work, run by local worker processes or as Slurm jobs against the store.
/// </summary>
internal static class StudyCommand
{
    private sealed class Shared
    {
        public Argument<string> File { get; } = new("file") { Description = "The study file (.toml); see studies/ for examples" };
        public Option<string?> Root { get; } = Binding.CommonOptions.StoreRoot("; on Slurm, a folder every node sees");
        public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Folder with the dataset files, passed to every unit" };
        public Option<bool> Download { get; } = new("--download") { Description = "Let units download a missing dataset (checksums verified)" };
        public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON on stdout" };

        public void AddTo(Command command, bool data = true)
        {
            command.Arguments.Add(File);
            command.Options.Add(Root);
            if (data)
            {
                command.Options.Add(DataDir);
                command.Options.Add(Download);
            }
            command.Options.Add(Json);
        }

        public StudyPlan Plan(ParseResult result) => StudyPlan.Expand(Study.Load(result.GetValue(File)!), CliApp.Accepts);

        public ExperimentStore Store(ParseResult result) => ExperimentStore.Resolve(result.GetValue(Root));

        /// <summary>Threads: the flag's, else the study's (never derived from the workers: weights depend on them).</summary>
        public UnitSettings Settings(ParseResult result, ExperimentStore store, StudyPlan plan, Option<int?> threads) =>
            new(store.Root, result.GetValue(DataDir) is { } d ? Path.GetFullPath(d) : null, result.GetValue(Download), result.GetValue(threads) ?? plan.Study.Threads);

        public Option<int?> Threads(string what) => new("--threads")
        {
            Description = $"CPU threads {what} [default: the study file's threads, else 1]; results depend on it, so a unit resumes only with the count it started with",
            CustomParser = Counts.Parse("--threads"),
        };
    }

    public static Command Create(CliEnvironment environment)
    {
        var command = new Command("study", "Run a whole study (recipes x replicates x levels x branches x analyses) from one TOML file, locally or on Slurm.");
        command.Subcommands.Add(Run(environment));
        command.Subcommands.Add(Status(environment));
        command.Subcommands.Add(Report(environment));
        command.Subcommands.Add(Unit(environment));
        command.Subcommands.Add(Worker(environment));
        return command;
    }

    private static Command Run(CliEnvironment environment)
    {
        var shared = new Shared();
        var workers = new Option<int>("--workers")
        {
            Description = "Units run at once on this machine, by long-lived worker processes that keep the data loaded (the results do not depend on it)",
            DefaultValueFactory = _ => 1, CustomParser = result => Counts.Parse("--workers")(result) ?? 0,
        };
        var threads = shared.Threads("per unit");
        var executor = new Option<string>("--executor") { Description = "local (worker processes on this machine) or slurm (one job per unit, waiting (afterok) for the units it needs)", DefaultValueFactory = _ => "local" };
        executor.AcceptOnlyFromAmong("local", "slurm");
        var wait = new Option<bool>("--wait") { Description = "With --executor slurm: wait until the submitted jobs have left the queue, then print the status; exits non-zero when a unit is not done" };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "Slurm: CPUs per unit [default: the study file's, else its threads]" };
        var gpus = new Option<int?>("--gpus") { Description = "Slurm: GPUs per unit" };
        var mem = new Option<string?>("--mem") { Description = "Slurm: memory per unit, e.g. 8G" };
        var time = new Option<string?>("--time") { Description = "Slurm: time limit per unit, e.g. 04:00:00" };
        var partition = new Option<string?>("--partition") { Description = "Slurm: partition" };
        var account = new Option<string?>("--account") { Description = "Slurm: account" };
        var sbatch = new Option<string[]>("--sbatch") { Description = "Slurm: an extra #SBATCH line (repeatable), e.g. --sbatch=--qos=high", AllowMultipleArgumentsPerToken = false };
        var command = new Command("run", "Run every unit of the study that is not finished in the store (a finished one is skipped, an interrupted one resumes), then write the study's report.");
        shared.AddTo(command);
        foreach (var option in new Option[] { workers, threads, executor, wait, cpus, gpus, mem, time, partition, account, sbatch }) command.Options.Add(option);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var plan = shared.Plan(result);
            var store = shared.Store(result);
            store.EnsureWritable();
            int workerCount = result.GetValue(workers);
            var settings = shared.Settings(result, store, plan, threads);
            string file = result.GetValue(shared.File)!;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            environment.Stderr.WriteLine($"Study {plan.Study.Name}: {plan.Units.Count} units, {settings.Threads} thread(s) each, store {store.Root}.");
            if (result.GetValue(executor) == "slurm")
            {
                var resources = plan.Study.Slurm with
                {
                    CpusPerTask = result.GetValue(cpus) ?? plan.Study.Slurm.CpusPerTask,
                    Gpus = result.GetValue(gpus) ?? plan.Study.Slurm.Gpus,
                    Memory = result.GetValue(mem) ?? plan.Study.Slurm.Memory,
                    Time = result.GetValue(time) ?? plan.Study.Slurm.Time,
                    Partition = result.GetValue(partition) ?? plan.Study.Slurm.Partition,
                    Account = result.GetValue(account) ?? plan.Study.Slurm.Account,
                    ExtraSbatchLines = [.. plan.Study.Slurm.ExtraSbatchLines, .. result.GetValue(sbatch) ?? []],
                };
                var submitted = new SlurmExecutor(file, plan, settings, resources, environment).Submit();
                if (submitted.Count == 0) environment.Stderr.WriteLine("Nothing to submit: every unit is done (or waits on one that failed or diverged).");
                if (!result.GetValue(wait)) return 0;
                SlurmExecutor.Wait(submitted, environment.Cancellation);
                return Finish(environment, plan, store, clock.Elapsed, interrupted: environment.Cancellation.IsCancellationRequested,
                    submitted.ToDictionary(j => j.Unit.Id, j => j.JobId));
            }
            var outcome = new LocalExecutor(file, plan, settings, workerCount, environment).Run();
            return Finish(environment, plan, store, clock.Elapsed, outcome.Interrupted);
        }));
        return command;
    }

    /// <summary>The study's report (what is done so far), its path on stdout, and the exit code of the pass.</summary>
    private static int Finish(CliEnvironment environment, StudyPlan plan, ExperimentStore store, TimeSpan elapsed, bool interrupted, IReadOnlyDictionary<string, string>? jobOf = null)
    {
        var status = StudyStatus.Read(plan, store);
        int code = Summarize(environment, status, elapsed, interrupted, jobOf);
        if (interrupted) return code;
        string index = ReportWriter.Write(StudyReport.Build(store, status, ExperimentNames(plan, store, environment)), DefaultReportFolder(plan, store));
        environment.Stdout.WriteLine($"Report written: {index}");
        return code;
    }

    private static string DefaultReportFolder(StudyPlan plan, ExperimentStore store) =>
        Path.Combine(new ExperimentStoreFolder(store).StudyFolder(plan.Study), "report");

    /// <summary>Units listed by name when a pass ends with some not done; `study status` lists them all.</summary>
    private const int UnfinishedShown = 40;

    /// <summary>
    /// The pass in one line, then each unit not done and why; the code says how it ended: 0 every unit
    /// done, 5 a unit failed, 6 units stopped or never ran, 4 the rest diverged (or waits on a divergence).
    /// </summary>
    private static int Summarize(CliEnvironment environment, StudyStatus status, TimeSpan elapsed, bool interrupted, IReadOnlyDictionary<string, string>? jobOf)
    {
        int total = status.Plan.Units.Count;
        environment.Stderr.WriteLine($"Study {status.Plan.Study.Name}: {status.Count(UnitState.Done)} of {total} units done, {status.Count(UnitState.Diverged)} diverged, "
            + $"{status.Count(UnitState.Failed)} failed, {status.Count(UnitState.Waiting)} waiting, {status.Count(UnitState.Running)} running; wall time {elapsed.TotalSeconds:F0} s.");
        if (interrupted) return environment.InterruptExitCode();
        var ending = UnfinishedUnits.Ending(status);
        if (ending == StudyEnding.Done) return 0;
        var unfinished = UnfinishedUnits.Of(status, jobOf);
        environment.Stderr.WriteLine($"{unfinished.Count} unit(s) not done:");
        foreach (var unit in unfinished.Take(UnfinishedShown)) environment.Stderr.WriteLine($"  {unit.Id}: {unit.Reason}");
        string source = status.Plan.Study.SourcePath;
        if (unfinished.Count > UnfinishedShown) environment.Stderr.WriteLine($"  ... and {unfinished.Count - UnfinishedShown} more (`ticketlab study status {source}` lists every unit).");
        switch (ending)
        {
            case StudyEnding.Failed:
                environment.Stderr.WriteLine($"error: {status.Count(UnitState.Failed)} unit(s) failed; `ticketlab study status {source}` lists them with their logs. Fix the cause and run the study again: finished units are skipped.");
                return CommandErrors.UnitsFailed;
            case StudyEnding.NotDone:
                environment.Stderr.WriteLine($"error: {unfinished.Count(u => u.State != UnitState.Diverged)} unit(s) are not done (stopped, cancelled or never run); run the study again to run them: finished units are skipped, stopped ones resume.");
                return CommandErrors.UnitsNotDone;
            default:
                return CommandErrors.Diverged;
        }
    }

    private static Command Status(CliEnvironment environment)
    {
        var shared = new Shared();
        var command = new Command("status", "Show each unit of the study and its state (done, running, waiting, failed, diverged), and the study's progress.");
        shared.AddTo(command, data: false);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var plan = shared.Plan(result);
            var status = StudyStatus.Read(plan, shared.Store(result));
            var output = new Output(environment.Stdout, environment.Stderr, result.GetValue(shared.Json), quiet: true, environment.Interactive);
            var rows = new JsonArray();
            var table = new Table().AddColumns("unit", "state", "detail", "attempts", "last run");
            foreach (var unit in plan.Units)
            {
                var state = status.States[unit.Id];
                var record = status.Records[unit.Id];
                var last = record.Attempts.LastOrDefault();
                string detail = state switch
                {
                    UnitState.Waiting or UnitState.Failed when status.BlockedBy(unit) is { } blocker => $"blocked by {blocker} ({status.States[blocker].ToString().ToLowerInvariant()})",
                    UnitState.Waiting when status.IsReady(unit) => last is null ? "ready" : "ready; resumes from its checkpoint",
                    UnitState.Waiting => $"after {string.Join(", ", unit.DependsOn.Where(d => status.States[d] != UnitState.Done))}",
                    UnitState.Failed => $"exit code {last?.ExitCode}; log {record.LogPath}",
                    UnitState.Running => last?.SlurmJob is { } job ? $"Slurm job {job}" : $"pid {last?.Pid} on {last?.Host}",
                    _ => "",
                };
                string when = last is null ? "-" : last.Ended is { } end ? $"{(end - last.Started).TotalSeconds:F0} s, {end.ToLocalTime():yyyy-MM-dd HH:mm}" : $"since {last.Started.ToLocalTime():HH:mm:ss}";
                table.AddRow(Markup.Escape(unit.Id), StateName(state), Markup.Escape(detail), record.Attempts.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(when));
                rows.Add(new JsonObject
                {
                    ["unit"] = unit.Id, ["state"] = StateName(state), ["detail"] = detail, ["attempts"] = record.Attempts.Count,
                    ["depends_on"] = new JsonArray(unit.DependsOn.Select(d => (JsonNode)d).ToArray()),
                    ["args"] = new JsonArray(unit.Args.Select(a => (JsonNode)a).ToArray()), ["record"] = record.Folder,
                });
            }
            int done = status.Count(UnitState.Done);
            string progress = $"{done} of {plan.Units.Count} units done ({100.0 * done / plan.Units.Count:F0}%): "
                + string.Join(", ", Enum.GetValues<UnitState>().Select(s => $"{status.Count(s)} {StateName(s)}"));
            if (output.Json)
                TrainingCommandSupport.PrintJson(output, new JsonObject
                {
                    ["study"] = plan.Study.Name, ["units"] = rows, ["done"] = done, ["total"] = plan.Units.Count,
                    ["counts"] = new JsonObject(Enum.GetValues<UnitState>().Select(s => KeyValuePair.Create(StateName(s), (JsonNode?)status.Count(s)))),
                });
            else
            {
                output.Console.Write(table);
                output.Human.WriteLine($"Study {plan.Study.Name}: {progress}.");
            }
            return 0;
        }));
        return command;
    }

    private static Command Report(CliEnvironment environment)
    {
        var shared = new Shared();
        var output = new Option<string?>("--out") { Description = "Folder to write the report to [default: <root>/studies/<name>/report]" };
        var command = new Command("report", "Write one report for the whole study: progress, each kind's figures overlaid and labelled by what differs, and the tables.");
        shared.AddTo(command, data: false);
        command.Options.Add(output);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var plan = shared.Plan(result);
            var store = shared.Store(result);
            var status = StudyStatus.Read(plan, store);
            var experimentOf = ExperimentNames(plan, store, environment);
            var report = StudyReport.Build(store, status, experimentOf);
            string folder = result.GetValue(output) ?? DefaultReportFolder(plan, store);
            string index = ReportWriter.Write(report, folder);
            environment.Stdout.WriteLine($"Report written: {index}");
            return 0;
        }));
        return command;
    }

    /// <summary>Each unit's experiment, named by its own command (the same naming code that stored it).</summary>
    public static IReadOnlyDictionary<string, string> ExperimentNames(StudyPlan plan, ExperimentStore store, CliEnvironment environment)
    {
        var names = new Dictionary<string, string>();
        foreach (var unit in plan.Units)
        {
            string? name = null;
            var quiet = environment with { Stdout = TextWriter.Null, Stderr = new StringWriter(), NameOnly = n => name = n };
            int code = CliApp.Run([.. unit.Args, "--root", store.Root], quiet);
            if (code != 0 || name is null)
                throw new StudyFileException($"{plan.Study.SourcePath}: unit {unit.Id} has flags its command refuses: {quiet.Stderr.ToString()!.Trim().Split('\n')[0]}");
            names[unit.Id] = name;
        }
        return names;
    }

    private static Command Unit(CliEnvironment environment)
    {
        var shared = new Shared();
        var unit = new Option<string[]>("--unit") { Description = "The unit's id, as `study status` lists it; repeated: units that train together (a Slurm job of a group)", Required = true };
        var threads = shared.Threads("for the unit");
        var command = new Command("unit", "Run one unit of a study in this process, or a group of units that train together (what Slurm jobs call).");
        shared.AddTo(command);
        command.Options.Add(unit);
        command.Options.Add(threads);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var plan = shared.Plan(result);
            var store = shared.Store(result);
            var settings = shared.Settings(result, store, plan, threads);
            var units = result.GetValue(unit)!.Select(plan.Unit).ToArray();
            if (units.Length == 1) return UnitRunner.Run(units[0], settings, environment, plan, store);
            var together = UnitRunner.RunTogether(units, settings, environment, plan, store);
            var codes = units.Select(u => together.TryGetValue(u.Id, out int code) ? code
                : environment.Cancellation.IsCancellationRequested ? environment.InterruptExitCode()
                : UnitRunner.Run(u, settings, environment, plan, store)).ToArray();
            // A group's job succeeds when one of its units did, so that Slurm starts what those need next;
            // a unit that failed has its own dependents refused (they find it failed) and recorded waiting.
            return codes.Any(c => c == 0) ? 0 : codes.First(c => c != 0);
        }));
        return command;
    }

    private static Command Worker(CliEnvironment environment)
    {
        var shared = new Shared();
        var threads = shared.Threads("for every unit");
        var command = new Command("worker", "Run units of a study one after another in this process, as `study run` workers do: reads unit ids on stdin, "
            + $"answers `{UnitWorker.Answer}<TAB>id<TAB>exit code` on stdout; each unit's output goes to its log.");
        shared.AddTo(command);
        command.Options.Add(threads);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var plan = shared.Plan(result);
            var store = shared.Store(result);
            store.EnsureWritable();
            return UnitWorker.Serve(plan, shared.Settings(result, store, plan, threads), store, environment, Console.In);
        }));
        return command;
    }

    private static string StateName(UnitState state) => JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString());
}
