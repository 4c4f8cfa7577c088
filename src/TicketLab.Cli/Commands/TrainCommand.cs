using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TicketLab.Cli.Display;
using TicketLab.Hyperparameters;
using TicketLab.Training;

namespace TicketLab.Cli.Commands;

/// <summary><c>ticketlab train</c>: train one network with a full recipe into the experiment store.</summary>
internal static class TrainCommand
{
    public static Command Create(CliEnvironment environment, PresetDefaults defaults)
    {
        var support = new TrainingCommandSupport(defaults.Training);
        var command = new Command("train", "Train a network. Results go to <root>/train_<hash>/replicate_<n>; a finished run is not run again, an interrupted one resumes.");
        support.AddTo(command);
        command.SetAction(result => CommandErrors.Guard(environment, () =>
        {
            var output = support.ReadOutput(result, environment);
            var desc = support.ReadDesc(result);
            if (environment.OnlyNames(desc.RunName)) return 0;
            var options = support.ReadRunOptions(result);
            int replicate = result.GetValue(support.Run.Replicate);
            var context = support.CreateContext(result, environment, output);
            var folder = context.Store.ReplicateFolder(desc.RunName, replicate);

            output.Human.WriteLine($"Hyperparameters ({desc.RunName}, replicate {replicate}):");
            output.Human.Write(DescribeDesc(desc));
            output.Human.WriteLine($"Output: {folder}");

            var summary = TrainingCommandSupport.WithProgress(output, context, c => TrainingRunner.Train(desc, replicate, options, c));
            PrintSummary(output, summary);
            TrainingCommandSupport.WriteResults(output, context.Store, desc.RunName);
            if (output.Json) TrainingCommandSupport.PrintJson(output, WithFolder(summary));
            summary.RequireConverged("The run"); // a diverged run is recorded, and ends with its own exit code
            return 0;
        }));
        return command;
    }

    public static string DescribeDesc(TrainingDesc desc) =>
        HparamJson.Describe(desc.Dataset) + HparamJson.Describe(desc.Model) + HparamJson.Describe(desc.Training);

    private static System.Text.Json.Nodes.JsonObject WithFolder(TrainingSummary summary)
    {
        var json = summary.ToJson();
        json["folder"] = summary.Folder;
        json["already_finished"] = summary.AlreadyFinished;
        return json;
    }

    private static void PrintSummary(Output output, TrainingSummary summary)
    {
        if (summary.AlreadyFinished) output.Human.WriteLine("This run had already finished; showing its stored summary.");
        if (summary.Diverged) return;
        output.Human.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Final test accuracy {summary.FinalTestAccuracy:P2} (loss {summary.FinalTestLoss:F4}); best {summary.BestTestAccuracy:P2} at iteration {summary.BestTestAccuracyStep}."));
        if (double.IsFinite(summary.SecondsPerEpoch))
            output.Human.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{summary.SecondsPerEpoch:F2} s per epoch (evaluation included), {summary.ImagesPerSecond:N0} training images/s."));
    }
}
