using System.CommandLine;
using System.Text.Json.Nodes;
using TicketLab.Cli.Binding;
using TicketLab.Cli.Display;
using TicketLab.Experiments;
using TicketLab.Hyperparameters;
using TicketLab.Lottery.Branches;

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

    /// <param name="name">The command's name: the analysis's, or a top-level shortcut's.</param>
    public static Command CreateFor(ILevelAnalysis analysis, CliEnvironment environment, PresetDefaults defaults, string? name = null)
    {
        var options = new LotteryOptions(defaults);
        var analysisOptions = new HparamOptionSet(analysis.HparamsType, analysis.DefaultHparams);
        var levels = new Option<string>("--levels") { Description = $"Levels to analyse ({analysis.FirstLevel} and above), e.g. 0-3,5", Required = true };
        var command = new Command(name ?? analysis.Name, analysis.Description);
        options.AddTo(command);
        analysisOptions.AddTo(command);
        command.Options.Add(levels);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var hparams = (IHparams)analysisOptions.ReadObject(result);
            hparams.Validate();
            var levelList = BranchRegistry.ParseLevels(result.GetValue(levels) ?? "");
            if (levelList.Where(l => l < analysis.FirstLevel).Select(l => (int?)l).FirstOrDefault() is { } below)
                throw new HparamException("--levels", $"{analysis.Name} applies to levels {analysis.FirstLevel} and above, not {below}.");
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
                        ["result"] = TrainingCommandSupport.WithProgress(output, context, c => LevelAnalysisRegistry.Run(analysis, hparams, desc, replicate, level, runOptions, c)),
                    });
            var folders = replicates.Select(r => TicketLab.Lottery.LotteryRunner.Layout(context, desc, r).Path).ToArray();
            foreach (var table in analysis.Tables(folders, hparams, levelList))
                ReportTableView.Write(output, table);
            TrainingCommandSupport.WriteResults(output, context.Store, desc.RunName);
            if (output.Json)
            {
                var json = new JsonObject { ["lottery_run"] = desc.RunName, ["analysis"] = analysis.FolderName(hparams), ["results"] = rows };
                if (analysis.Verdicts(folders, hparams, levelList) is { } verdicts) json["verdicts"] = verdicts;
                TrainingCommandSupport.PrintJson(output, json);
            }
            return 0;
        }));
        return command;
    }
}
