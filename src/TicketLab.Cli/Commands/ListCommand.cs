using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TicketLab.Cli.Display;
using TicketLab.Store;

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
            var rows = new System.Text.Json.Nodes.JsonArray();
            var table = new Table().AddColumns("run", "replicate", "state", "model", "dataset", "final test acc", "best test acc");
            foreach (var run in store.Runs())
            {
                var info = Describe(run);
                string name = Path.GetFileName(Path.GetDirectoryName(run.Path)!);
                table.AddRow(Markup.Escape(name), Path.GetFileName(run.Path), Markup.Escape(info.State), Markup.Escape(info.Model), Markup.Escape(info.Dataset),
                    Percent(info.Summary, "final_test_accuracy"), Percent(info.Summary, "best_test_accuracy"));
                rows.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["run"] = name, ["replicate"] = Path.GetFileName(run.Path), ["state"] = info.State, ["path"] = run.Path,
                    ["model"] = info.Model, ["dataset"] = info.Dataset, ["summary"] = info.Summary?.DeepClone(),
                });
            }
            if (output.Json) TrainingCommandSupport.PrintJson(output, rows);
            else if (rows.Count == 0) output.Human.WriteLine($"No runs in {store.Root}.");
            else output.Console.Write(table);
            return 0;
        }));
        return command;
    }

    private static string Percent(System.Text.Json.Nodes.JsonObject? summary, string key) =>
        summary?[key] is { } v ? ((double)v).ToString("P2", CultureInfo.InvariantCulture) : "-";

    /// <summary>State and recipe of a replicate folder: a training run, a lottery run (by levels) or an analysis.</summary>
    private static (string State, string Model, string Dataset, System.Text.Json.Nodes.JsonObject? Summary) Describe(RunFolder run)
    {
        string experiment = Path.GetFileName(Path.GetDirectoryName(run.Path)!);
        try
        {
            if (experiment.StartsWith("lottery_", StringComparison.Ordinal))
            {
                var layout = new TicketLab.Lottery.LotteryLayout(run.Path);
                var levels = layout.Levels().ToArray();
                int finished = levels.Count(l => layout.Main(l).IsFinished);
                var desc = File.Exists(Path.Combine(run.Path, "lottery.json"))
                    ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, "lottery.json")))?["lottery"] : null;
                var last = levels.Where(l => layout.Main(l).IsFinished).Select(l => layout.Main(l).ReadSummary()).LastOrDefault();
                return ($"{finished}/{levels.Length} levels finished", desc?["model"]?["model_name"]?.ToString() ?? "?",
                    desc?["dataset"]?["dataset_name"]?.ToString() ?? "?", last);
            }
            if (experiment.StartsWith("instability_", StringComparison.Ordinal))
            {
                bool done = Directory.EnumerateFiles(run.Path, "interpolation_*.json").Any();
                var analysis = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, "..", "analysis.json")));
                var recipe = analysis?["training"] ?? analysis?["lottery"];
                return (done ? "finished" : "partial", recipe?["model"]?["model_name"]?.ToString() ?? "?", recipe?["dataset"]?["dataset_name"]?.ToString() ?? "?", null);
            }
            var hparams = run.ReadHparams();
            return (run.State.ToString().ToLowerInvariant(), hparams?["model"]?["model_name"]?.ToString() ?? "?",
                hparams?["dataset"]?["dataset_name"]?.ToString() ?? "?", run.ReadSummary());
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            return ($"unreadable ({e.Message})", "?", "?", null);
        }
    }
}
