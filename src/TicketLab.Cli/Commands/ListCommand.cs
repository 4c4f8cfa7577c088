using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TicketLab.Cli.Display;
using System.Text.Json.Nodes;
using TicketLab.Foundations;
using TicketLab.Store;
using TicketLab.Training;

namespace TicketLab.Cli.Commands;

/// <summary><c>ticketlab list</c>: the runs in the experiment store, with their state.</summary>
internal static class ListCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var root = new Option<string?>("--root") { Description = "Experiment store folder [default: $TICKETLAB_ROOT, else ~/.local/share/ticketlab/experiments]" };
        var json = new Option<bool>("--json") { Description = "Print the list as JSON" };
        var command = new Command("list", "List the runs in the experiment store with their state.") { root, json };
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var store = ExperimentStore.Resolve(result.GetValue(root));
            var output = new Output(environment.Stdout, environment.Stderr, result.GetValue(json), quiet: true, environment.Interactive);
            var rows = new JsonArray();
            var table = new Table().AddColumns("run", "replicate", "state", "model", "dataset", "final test acc", "best test acc");
            foreach (var run in store.Runs())
            {
                var info = Describe(run);
                string name = Path.GetFileName(Path.GetDirectoryName(run.Path)!);
                // One unreadable run is reported and skipped over; it never hides the others.
                if (info.Problem is { } problem) environment.Stderr.WriteLine($"warning: {problem}");
                table.AddRow(Markup.Escape(name), Path.GetFileName(run.Path), Markup.Escape(info.State), Markup.Escape(info.Model), Markup.Escape(info.Dataset),
                    Percent(info.Summary?.FinalTestAccuracy), Percent(info.Summary?.BestTestAccuracy));
                rows.Add(new JsonObject
                {
                    ["run"] = name, ["replicate"] = Path.GetFileName(run.Path), ["state"] = info.State, ["path"] = run.Path,
                    ["model"] = info.Model, ["dataset"] = info.Dataset, ["summary"] = info.Summary?.ToJson(), ["problem"] = info.Problem,
                });
            }
            if (output.Json) TrainingCommandSupport.PrintJson(output, rows);
            else if (rows.Count == 0) output.Human.WriteLine($"No runs in {store.Root}.");
            else output.Console.Write(table);
            return 0;
        }));
        return command;
    }

    private static string Percent(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("P2", CultureInfo.InvariantCulture) : "-";

    /// <summary>A nested display field; "?" when a hand-edited file lacks it or gives it another type.</summary>
    private static string Field(JsonNode? node, string group, string key) =>
        (node as JsonObject)?[group] is JsonObject o && o[key] is JsonValue v ? v.ToString() : "?";

    private sealed record RunInfo(string State, string Model, string Dataset, TrainingSummary? Summary, string? Problem = null);

    /// <summary>State and recipe of a replicate folder: a training run, a lottery run (by levels) or an analysis.</summary>
    private static RunInfo Describe(RunFolder run)
    {
        string experiment = Path.GetFileName(Path.GetDirectoryName(run.Path)!);
        try
        {
            if (experiment.StartsWith("lottery_", StringComparison.Ordinal))
            {
                var layout = new TicketLab.Lottery.LotteryLayout(run.Path);
                var levels = layout.Levels().ToArray();
                var summaries = levels.Select(l => TrainingSummary.Read(layout.Main(l))).ToArray();
                int finished = summaries.Count(s => s is { Diverged: false });
                var desc = JsonRead.ObjectFile(Path.Combine(run.Path, "lottery.json"))?["lottery"];
                bool running = levels.Any(l => Directory.EnumerateDirectories(layout.LevelFolder(l)).Any(f => new RunFolder(f).State == RunState.Running));
                var diverged = summaries.Select((s, i) => (Summary: s, Level: levels[i])).FirstOrDefault(p => p.Summary is { Diverged: true });
                string state = diverged.Summary is { } d ? $"level {diverged.Level} {d.DivergenceText}"
                    : $"{finished}/{levels.Length} levels finished{(running ? ", running" : "")}";
                return new(state, Field(desc, "model", "model_name"), Field(desc, "dataset", "dataset_name"),
                    summaries.LastOrDefault(s => s is { Diverged: false }));
            }
            if (experiment.StartsWith("instability_", StringComparison.Ordinal))
            {
                bool done = Directory.EnumerateFiles(run.Path, "interpolation_*.json").Any();
                bool running = Directory.EnumerateDirectories(run.Path).Any(f => new RunFolder(f).State == RunState.Running);
                var analysis = JsonRead.ObjectFile(Path.Combine(run.Path, "..", "analysis.json"));
                var recipe = analysis?["training"] ?? analysis?["lottery"];
                return new(done ? "finished" : running ? "running" : "partial", Field(recipe, "model", "model_name"), Field(recipe, "dataset", "dataset_name"), null);
            }
            var hparams = run.ReadHparams();
            var summary = TrainingSummary.Read(run);
            string runState = summary is { Diverged: true } ? summary.DivergenceText : run.State.ToString().ToLowerInvariant();
            return new(runState, Field(hparams, "model", "model_name"), Field(hparams, "dataset", "dataset_name"), summary);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return new("unreadable", "?", "?", null, e.Message);
        }
    }
}
