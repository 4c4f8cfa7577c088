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
                var hparams = run.ReadHparams();
                var summary = run.ReadSummary();
                string name = Path.GetFileName(Path.GetDirectoryName(run.Path)!);
                string model = hparams?["model"]?["model_name"]?.ToString() ?? "?";
                string dataset = hparams?["dataset"]?["dataset_name"]?.ToString() ?? "?";
                string state = run.State.ToString().ToLowerInvariant();
                string Percent(string key) => summary?[key] is { } v ? ((double)v).ToString("P2", CultureInfo.InvariantCulture) : "-";
                table.AddRow(Markup.Escape(name), Path.GetFileName(run.Path), state, Markup.Escape(model), Markup.Escape(dataset),
                    Percent("final_test_accuracy"), Percent("best_test_accuracy"));
                rows.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["run"] = name, ["replicate"] = Path.GetFileName(run.Path), ["state"] = state, ["path"] = run.Path,
                    ["model"] = model, ["dataset"] = dataset, ["summary"] = summary?.DeepClone(),
                });
            }
            if (output.Json) TrainingCommandSupport.PrintJson(output, rows);
            else if (rows.Count == 0) output.Human.WriteLine($"No runs in {store.Root}.");
            else output.Console.Write(table);
            return 0;
        }));
        return command;
    }
}
