using System.CommandLine;
using TicketLab.Experiments;
using TicketLab.Reporting;
using TicketLab.Store;

namespace TicketLab.Cli.Commands;

/// <summary><c>ticketlab report</c>: figures, tables and an offline index.html for an experiment, or two overlaid.</summary>
internal static class ReportCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var target = new Argument<string?>("experiment") { Description = "Folder, file, run name or hash (a unique prefix is enough) of an experiment in the store", Arity = ArgumentArity.ZeroOrOne };
        var compare = new Option<string[]>("--compare") { Description = "Overlay two experiments of one kind: --compare A B", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out") { Description = "Folder to write the report to [default: <experiment>/report, or ./report-<A>-vs-<B>]" };
        var levels = new Option<string?>("--levels") { Description = "Lottery levels whose training curves to draw, e.g. 0,5,10 [default: first, middle, last]" };
        var basin = new Option<double>("--basin-threshold")
        {
            Description = "Rise of the error above the chord (a fraction) under which compare's verdict counts two networks as one basin; changes only the verdicts",
            DefaultValueFactory = _ => TicketLab.Analysis.InterpolationCurve.StabilityThreshold,
        };
        var root = Binding.CommonOptions.StoreRoot();
        var command = new Command("report", "Write the figures (PNG, SVG and the CSV behind each), tables and an offline index.html of an experiment.")
        {
            target, compare, output, levels, basin, root,
        };
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            double basinThreshold = result.GetValue(basin);
            TicketLab.Analysis.InterpolationCurve.RequireThreshold(basinThreshold, "--basin-threshold");
            var store = ExperimentStore.Resolve(result.GetValue(root));
            Report report;
            string defaultFolder;
            ExperimentRef? single = null;
            try
            {
                if (result.GetValue(compare) is { Length: 2 } pair)
                {
                    var a = ExperimentRef.Resolve(store, pair[0]);
                    var b = ExperimentRef.Resolve(store, pair[1]);
                    report = ExperimentReports.Compare(store, a, b);
                    defaultFolder = Path.GetFullPath($"report-{a.Name}-vs-{b.Name}");
                }
                else if (result.GetValue(target) is { } text)
                {
                    var experiment = ExperimentRef.Resolve(store, text);
                    var curveLevels = result.GetValue(levels) is { } text2 ? TicketLab.Lottery.Branches.BranchRegistry.ParseLevels(text2) : null;
                    report = ExperimentReports.Build(store, experiment, new ReportOptions { CurveLevels = curveLevels, BasinThreshold = basinThreshold });
                    single = experiment;
                    defaultFolder = experiment.Kind.StoredAsFile
                        ? Path.ChangeExtension(experiment.Path, null) + "_report"
                        : Path.Combine(experiment.Path, "report");
                }
                else
                {
                    environment.Stderr.WriteLine("error: give an experiment (path, run name or hash), or --compare A B.");
                    return CommandErrors.UsageError;
                }
            }
            catch (ArgumentException e)
            {
                environment.Stderr.WriteLine($"error: {e.Message}");
                return CommandErrors.UsageError;
            }
            string folder = result.GetValue(output) ?? defaultFolder;
            string index;
            try
            {
                index = ReportWriter.Write(report, folder);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                throw new StoreException($"cannot write the report to {Path.GetFullPath(folder)} ({e.Message.TrimEnd('.')}). Pass --out DIR to write it to a folder you can write.", e);
            }
            if (single is not null) WriteResultsBeside(environment, single, report);
            environment.Stdout.WriteLine($"Report written: {index}");
            if (report.ResultsCsv is not null) environment.Stdout.WriteLine($"Results (one number a row): {Path.Combine(Path.GetDirectoryName(index)!, ReportWriter.ResultsFile)}");
            environment.Stdout.WriteLine($"Open it in a browser: file://{index}");
            return 0;
        }));
        return command;
    }

    /// <summary>Brings the experiment's own results.csv up to date (runs stored before it existed have none); a read-only store only warns.</summary>
    private static void WriteResultsBeside(CliEnvironment environment, ExperimentRef experiment, Report report)
    {
        if (report.ResultsCsv is not { } csv) return;
        try
        {
            TicketLab.Foundations.AtomicFile.WriteText(ExperimentResults.PathOf(experiment), csv);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            environment.Stderr.WriteLine($"warning: {ExperimentResults.PathOf(experiment)} not written ({e.Message.TrimEnd('.')}); the report has its own copy.");
        }
    }
}
