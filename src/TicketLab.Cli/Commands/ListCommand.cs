using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using TicketLab.Cli.Display;
using TicketLab.Experiments;
using TicketLab.Store;

namespace TicketLab.Cli.Commands;

/// <summary>
/// <c>ticketlab list</c>: the experiments in the store, a row per replicate (and per lottery level), read by each experiment's
/// kind, with the hyperparameters that tell each from the others of its kind (<c>differs</c>).
/// </summary>
internal static class ListCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var root = Binding.CommonOptions.StoreRoot();
        var json = new Option<bool>("--json") { Description = "Print the list as JSON" };
        var command = new Command("list", "List the experiments in the store (training runs, lottery runs, analyses, sweeps) with their state.") { root, json };
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var store = ExperimentStore.Resolve(result.GetValue(root));
            var output = new Output(environment.Stdout, environment.Stderr, result.GetValue(json), quiet: true, environment.Interactive);
            var rows = new JsonArray();
            var table = new Table().AddColumns("experiment", "replicate", "level", "state", "model", "dataset", "differs", "final test acc", "best test acc", "detail");
            var experiments = ExperimentRegistry.Experiments(store).ToArray();
            var differences = Differences(experiments);
            foreach (var experiment in experiments)
                foreach (var entry in experiment.Kind.List(experiment.Path))
                {
                    var differs = differences[experiment.Name];
                    // One unreadable run is reported and skipped over; it never hides the others.
                    if (entry.Problem is { } problem) environment.Stderr.WriteLine($"warning: {problem}");
                    table.AddRow(Markup.Escape(entry.Experiment), entry.Replicate?.ToString(CultureInfo.InvariantCulture) ?? "-",
                        entry.Level?.ToString(CultureInfo.InvariantCulture) ?? "-", StateName(entry.State),
                        Markup.Escape(entry.Model), Markup.Escape(entry.Dataset), Markup.Escape(differs.Count > 0 ? HparamDifferences.Label(differs) : "-"),
                        Percent(entry.Summary?.FinalTestAccuracy), Percent(entry.Summary?.BestTestAccuracy), Markup.Escape(entry.Detail));
                    rows.Add(new JsonObject
                    {
                        ["experiment"] = entry.Experiment, ["kind"] = entry.Kind, ["replicate"] = entry.Replicate, ["level"] = entry.Level,
                        ["imported"] = entry.Imported, ["state"] = StateName(entry.State),
                        ["detail"] = entry.Detail, ["path"] = entry.Path, ["model"] = entry.Model, ["dataset"] = entry.Dataset,
                        ["differs"] = new JsonObject(differs.Select(d => KeyValuePair.Create(d.Path, d.Absent ? null : d.Value?.DeepClone()))),
                        ["summary"] = entry.Summary?.ToJson(), ["problem"] = entry.Problem,
                    });
                }
            if (output.Json) TrainingCommandSupport.PrintJson(output, rows);
            else if (rows.Count == 0) output.Human.WriteLine($"No experiments in {store.Root}.");
            else output.Console.Write(table);
            // Every readable run is listed; a damaged one still fails the command, so a script notices.
            int damaged = rows.Count(r => r!["problem"] is not null);
            if (damaged == 0) return 0;
            environment.Stderr.WriteLine($"error: {damaged} entr{(damaged == 1 ? "y" : "ies")} of the store could not be read or failed their checks (warnings above).");
            return CommandErrors.DataError;
        }));
        return command;
    }

    /// <summary>
    /// Per experiment, the hyperparameters whose values differ from those of other experiments of its kind
    /// in the store (nothing when it is the only one of its kind, or its recipe cannot be read).
    /// </summary>
    private static Dictionary<string, IReadOnlyList<HparamSetting>> Differences(IReadOnlyList<ExperimentRef> experiments)
    {
        var result = new Dictionary<string, IReadOnlyList<HparamSetting>>();
        foreach (var kind in experiments.GroupBy(e => e.Kind))
        {
            var members = kind.ToArray();
            var differences = members.Length > 1
                ? HparamDifferences.Of(members.Select(e => TicketLab.Experiments.ExperimentReports.SettingsOf(e)).ToArray())
                : [[]];
            for (int i = 0; i < members.Length; i++) result[members[i].Name] = differences[i];
        }
        return result;
    }

    private static string StateName(ExperimentState state) => JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString());

    private static string Percent(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("P2", CultureInfo.InvariantCulture) : "-";
}
