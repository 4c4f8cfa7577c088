#:project ../src/TicketLab/TicketLab.csproj
// Iterative magnitude pruning in memory: train LeNet-300-100 on Fashion-MNIST, prune 20% of the
// weights per level, rewind the survivors to initialization, retrain. Run: dotnet run examples/train-prune-rewind-retrain.cs
using TicketLab;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;

var recipe = Presets.Get("lenet_300_100");
recipe = recipe with
{
    Dataset = recipe.Dataset with { TrainSubset = 10_000 },
    Training = recipe.Training with { TrainingSteps = StepSpec.Parse("2ep") },
};
var pruning = Presets.PruningOf("lenet_300_100");   // 20% global magnitude pruning, output layer dense
var lab = new Lab();

using var dense = lab.Train(recipe, seed: 1);       // keeps its initialization (step 0) for rewinding
Console.WriteLine($"level 0: 100.0% of weights, test accuracy {dense.TestAccuracy:P2}");
var trained = dense;
for (int level = 1; level <= 3; level++)
{
    var mask = lab.Prune(trained, pruning);          // prunes what the last network kept
    var ticket = lab.Train(recipe, seed: 1, mask: mask, start: lab.Rewind(dense, mask));
    Console.WriteLine($"level {level}: {mask.Density:P1} of weights, test accuracy {ticket.TestAccuracy:P2}");
    if (trained != dense) trained.Dispose();
    trained = ticket;
}
