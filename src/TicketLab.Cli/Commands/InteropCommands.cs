using System.CommandLine;
using System.Globalization;
using TicketLab.Cli.Display;
using TicketLab.Data;
using TicketLab.Hyperparameters;
using TicketLab.Interop;
using TicketLab.Store;
using TicketLab.Training;
using TorchSharp;

namespace TicketLab.Cli.Commands;

/// <summary><c>ticketlab export</c> and <c>ticketlab import openlth</c>: networks to and from PyTorch and OpenLTH.</summary>
internal static class InteropCommands
{
    private static Option<string?> Root() => Binding.CommonOptions.StoreRoot();

    public static Command Export(CliEnvironment environment)
    {
        var run = new Argument<string>("run") { Description = "Run folder (e.g. .../level_2/main, .../copy_a), or run name or hash prefix of a training or lottery run in the store" };
        var step = new Option<string>("--step") { Description = "final, or a saved step: the rewind point ep0_it0, or 0it, 2ep, 500it (see the run's models/)", DefaultValueFactory = _ => "final" };
        var output = new Option<string?>("--out") { Description = "Folder to write to [default: ./<run>-replicate_<N>[-level_<L>]-<step>]" };
        var level = new Option<int?>("--level") { Description = "Level of a lottery run (required for one)" };
        var replicate = new Option<int?>("--replicate") { Description = "Replicate [default: 1, or the replicate folder given]" };
        var root = Root();
        var command = new Command("export", "Write a network (and a lottery level's mask) as a PyTorch state_dict (.pth) and a safetensors file with OpenLTH's tensor names, "
            + "for torch.load + load_state_dict on OpenLTH's model class.")
        {
            run, step, output, level, replicate, root,
        };
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var store = ExperimentStore.Resolve(result.GetValue(root));
            var request = new ExportRequest
            {
                Target = result.GetValue(run)!, Step = result.GetValue(step) ?? "final", Level = result.GetValue(level), Replicate = result.GetValue(replicate),
            };
            ExportedFiles files;
            try
            {
                files = OpenLthExport.Run(store, request, result.GetValue(output));
            }
            catch (ArgumentException e)
            {
                environment.Stderr.WriteLine($"error: {e.Message}");
                return CommandErrors.UsageError;
            }
            var stdout = environment.Stdout;
            stdout.WriteLine($"Exported step {files.StepLabel} to {files.Folder}:");
            foreach (var file in new[] { files.StateDict, files.SafeTensors, files.MaskStateDict, files.MaskSafeTensors, files.Manifest }.OfType<string>())
                stdout.WriteLine($"  {Path.GetFileName(file)}");
            stdout.WriteLine(files.Model is { } model
                ? $"Keys are OpenLTH's {model.OpenLthName}{(model.RenamesKeys ? " (renamed: see export.json)" : " (the same as TicketLab's)")}. In Python: "
                  + $"model.load_state_dict(torch.load('{files.StateDict}'), strict=True)"
                : "OpenLTH has no such model: keys are TicketLab's own (see export.json).");
            return 0;
        }));
        return command;
    }

    public static Command Import(CliEnvironment environment)
    {
        var folder = new Argument<string>("folder") { Description = "An OpenLTH lottery run: <openlth_root>/lottery_<hash> (all replicates) or one of its replicate_N folders" };
        var root = Root();
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with the dataset files (the run's test set and epoch length come from it) [default: as for train]" };
        var download = new Option<bool>("--download") { Description = "Download a missing dataset from its official location (checksums verified)" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for tensor operations [default: all cores]" };
        var openlth = new Command("openlth", "Bring an OpenLTH lottery run (hparams.log, model_ep*_it*.pth, mask.pth, logger per level) into the store as the TicketLab lottery run "
            + "of the same hyperparameters, so that report, compare, instability --level and branch run on it.")
        {
            folder, root, dataDir, download, threads,
        };
        openlth.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            int count = result.GetValue(threads) ?? Environment.ProcessorCount;
            if (count < 1) throw new HparamException("--threads", $"must be at least 1, got {count}.");
            torch.set_num_threads(count);
            var store = ExperimentStore.Resolve(result.GetValue(root));
            store.EnsureWritable();
            var context = new RunContext
            {
                Store = store, Data = new DataSource(result.GetValue(dataDir), result.GetValue(download)),
                Cancellation = environment.Cancellation, Log = environment.Stderr,
            };
            var imported = OpenLthImport.Run(result.GetValue(folder)!, context);
            var stdout = environment.Stdout;
            stdout.WriteLine($"Lottery run {imported.Desc.RunName} ({imported.ExperimentFolder}):");
            foreach (var replicate in imported.Replicates)
            {
                if (replicate.AlreadyImported)
                {
                    stdout.WriteLine($"  replicate {replicate.Replicate}: imported before ({replicate.Folder}); delete that folder to import it again.");
                    continue;
                }
                foreach (var level in replicate.Levels)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  replicate {replicate.Replicate}, level {level.Level}: {100 * level.Density:F1}% of prunable weights remain, test accuracy {level.Summary.FinalTestAccuracy:P2}"));
            }
            foreach (var note in imported.Notes) stdout.WriteLine($"note: {note}");
            TrainingCommandSupport.WriteResults(new Output(stdout, environment.Stderr, json: false, quiet: true, environment.Interactive), store, imported.Desc.RunName);
            stdout.WriteLine($"These flags name it: {ShellLine(imported.Flags)}");
            stdout.WriteLine("Continue it with, for instance:");
            foreach (var next in NextCommands(imported, store, result.GetValue(root) is not null, result.GetValue(dataDir)))
                stdout.WriteLine($"  {ShellLine(next)}");
            return 0;
        }));
        return new Command("import", "Bring runs of other frameworks into the store.") { openlth };
    }

    /// <summary>
    /// Commands that go on from an imported run, with the store and data folders the import was given
    /// (and only those), so that they find what the import found: a report, an instability analysis of
    /// a pruned level, and IMP one level past the last one imported.
    /// </summary>
    private static IEnumerable<string[]> NextCommands(ImportResult imported, ExperimentStore store, bool rootGiven, string? dataDir)
    {
        string[] rootFlag = rootGiven ? ["--root", store.Root] : [];
        string[] dataFlag = dataDir is null ? [] : ["--data-dir", Path.GetFullPath(dataDir)];
        var first = imported.Replicates.OrderBy(r => r.Replicate).FirstOrDefault(r => r.Levels.Count > 0);
        int last = first?.Levels.Max(l => l.Level) ?? 0;
        string[] replicateFlag = first is null || first.Replicate == 1 ? [] : ["--replicate", first.Replicate.ToString(CultureInfo.InvariantCulture)];
        yield return ["ticketlab", "report", imported.Desc.RunName, .. rootFlag];
        if (last >= 1) yield return ["ticketlab", "instability", "--level", "1", .. imported.Flags, .. replicateFlag, .. rootFlag, .. dataFlag];
        yield return ["ticketlab", "lottery", "--levels", (last + 1).ToString(CultureInfo.InvariantCulture), .. imported.Flags, .. replicateFlag, .. rootFlag, .. dataFlag];
    }

    /// <summary>Arguments as a POSIX shell reads them back: words of plain characters as they are, others in single quotes.</summary>
    private static string ShellLine(IEnumerable<string> args) => string.Join(" ", args.Select(a =>
        a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./,:=+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'"));
}
