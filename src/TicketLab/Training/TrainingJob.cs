using System.Text.Json.Nodes;
using TicketLab.Hyperparameters;
using TicketLab.Store;

namespace TicketLab.Training;

/// <summary>
/// One run to train, as <see cref="TrainingRunner.Train(RunFolder, TrainingDesc, int, RunOptions, RunContext, TrainingStart?, JsonObject?)"/>
/// takes it: its folder, recipe, replicate, start and extra hparams.json entries. Several of them go
/// to <see cref="StackedTraining.TrainAll"/>, which trains those it can together.
/// </summary>
public sealed record TrainingJob(RunFolder Folder, TrainingDesc Desc, int Replicate, TrainingStart? Start = null, JsonObject? ExtraHparams = null)
{
    public TrainingSummary TrainAlone(RunOptions options, RunContext context) =>
        TrainingRunner.Train(Folder, Desc, Replicate, options, context, Start, ExtraHparams);
}
