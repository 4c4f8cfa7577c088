using System.CommandLine;
using TicketLab.Experiments;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Store;

namespace TicketLab.Cli.Commands;

/// <summary><c>ticketlab results</c>: every result in the store as one CSV (or JSON lines), filtered by kind, preset and hyperparameter.</summary>
internal static class ResultsCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var root = Binding.CommonOptions.StoreRoot();
        var kind = new Option<string[]>("--kind") { Description = $"Only experiments of these kinds (repeat or comma-separate): {string.Join(", ", ExperimentRegistry.All.Select(k => k.Name))}" };
        var preset = new Option<string?>("--preset") { Description = "Only experiments whose recipe is nearest to this preset (the 'preset' column: the preset it departs from least)" };
        var where = new Option<string[]>("--where") { Description = "Only experiments with this recipe value, e.g. training.lr=0.1 or model.model_name=lenet_300_100 (repeatable; all must hold)" };
        var format = new Option<string>("--format") { Description = "csv, or jsonl (one JSON object a line)", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var output = new Option<string?>("--out") { Description = "Write to this file instead of stdout" };
        var command = new Command("results", "Every result in the store, one number a row (results.csv's columns), with each experiment's nearest preset, its departures from it and the hyperparameters that differ between experiments.")
        {
            root, kind, preset, where, format, output,
        };
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var filter = new StoreResultsFilter
            {
                Kinds = (result.GetValue(kind) ?? []).SelectMany(k => k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
                Preset = result.GetValue(preset),
                Where = (result.GetValue(where) ?? []).Select(ParseWhere).ToArray(),
            };
            var store = ExperimentStore.Resolve(result.GetValue(root));
            var table = StoreResults.Collect(store, filter);
            string text = result.GetValue(format) == "jsonl" ? string.Concat(table.ToJsonLines().Select(l => l + "\n")) : table.ToCsv();
            if (result.GetValue(output) is { } file)
            {
                AtomicFile.WriteText(Path.GetFullPath(file), text);
                environment.Stderr.WriteLine($"{table.Rows.Count} result(s) written to {Path.GetFullPath(file)}.");
            }
            else environment.Stdout.Write(text);
            return 0;
        }));
        return command;
    }

    private static (string Path, string Value) ParseWhere(string text)
    {
        int equals = text.IndexOf('=');
        return equals > 0 && equals < text.Length - 1
            ? (text[..equals].Trim(), text[(equals + 1)..].Trim())
            : throw new HparamException("--where", $"'{text}' is not PATH=VALUE; write e.g. training.lr=0.1.");
    }
}
