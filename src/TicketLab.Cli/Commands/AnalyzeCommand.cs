using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Experiments;
using TicketLab.Hyperparameters;
using TicketLab.Lottery.Branches;
using TicketLab.Reporting;

namespace TicketLab.Cli.Commands;

/// <summary>
/// <c>ticketlab analyze NAME</c>: one sub-command per registered level analysis
/// (<see cref="LevelAnalysisRegistry"/>), its flags made from the analysis's hyperparameter record.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create(CliEnvironment environment, PresetDefaults defaults)
    {
        var command = new Command("analyze", "Run an analysis on levels of a finished lottery run (given by the same flags as `ticketlab lottery`).");
        foreach (var analysis in LevelAnalysisRegistry.All) command.Subcommands.Add(CreateFor(analysis, environment, defaults));
        return command;
    }

    private static Command CreateFor(ILevelAnalysis analysis, CliEnvironment environment, PresetDefaults defaults)
    {
        var options = new LotteryOptions(defaults);
        var analysisOptions = new HparamOptionSet(analysis.HparamsType, analysis.DefaultHparams);
        var levels = new Option<string>("--levels") { Description = $"Levels to analyse ({analysis.FirstLevel} and above), e.g. 0-3,5", Required = true };
        var command = new Command(analysis.Name, analysis.Description);
        options.AddTo(command);
        analysisOptions.AddTo(command);
        command.Options.Add(levels);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var hparams = (IHparams)analysisOptions.ReadObject(result);
            hparams.Validate();
            var levelList = BranchRegistry.ParseLevels(result.GetValue(levels) ?? "");
            if (environment.OnlyNames(options.ReadDesc(result).RunName)) return 0;
            var (output, desc, runOptions, context) = options.Prepare(result, environment);
            output.Human.WriteLine($"Analysis {analysis.FolderName(hparams)} of {desc.RunName}, levels {string.Join(",", levelList)}:");
            var rows = new JsonArray();
            var replicates = options.ReadReplicates(result);
            foreach (int replicate in replicates)
                foreach (int level in levelList)
                    rows.Add(new JsonObject
                    {
                        ["replicate"] = replicate, ["level"] = level,
                        ["result"] = LevelAnalysisRegistry.Run(analysis, hparams, desc, replicate, level, runOptions, context),
                    });
            var folders = replicates.Select(r => TicketLab.Lottery.LotteryRunner.Layout(context, desc, r).Path);
            foreach (var table in analysis.Tables(folders).Select(t => Only(t, levelList)))
                ReportTableView.Write(output, table);
            if (output.Json) TrainingCommandSupport.PrintJson(output, new JsonObject { ["lottery_run"] = desc.RunName, ["analysis"] = analysis.FolderName(hparams), ["results"] = rows });
            return 0;
        }));
        return command;
    }

    // The stored tables hold every level analysed so far; the command shows the levels asked for.
    private static ReportTable Only(ReportTable table, IReadOnlyList<int> levels)
    {
        int column = table.Header.ToList().IndexOf("level");
        return column < 0 ? table : table with { Rows = table.Rows.Where(r => int.TryParse(r[column], out int l) && levels.Contains(l)).ToArray() };
    }
}

/// <summary>A report table on the console.</summary>
internal static class ReportTableView
{
    public static void Write(Output output, ReportTable table)
    {
        var view = new Table().Title(Markup.Escape(table.Title)).AddColumns(table.Header.Select(Markup.Escape).ToArray());
        foreach (var row in table.Rows) view.AddRow(row.Select(Markup.Escape).ToArray());
        output.Console.Write(view);
    }
}
