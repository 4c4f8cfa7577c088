#:project ../src/TicketLab/TicketLab.csproj
// Linear mode connectivity in memory: two copies of LeNet-300-100 from one initialization, trained
// with different data orders, then the test error along the line between them (Frankle et al. 2020).
// Run: dotnet run examples/interpolate.cs
using TicketLab;
using TicketLab.Analysis;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;

var recipe = Presets.Get("lenet_300_100");
recipe = recipe with
{
    Dataset = recipe.Dataset with { TrainSubset = 10_000 },
    Training = recipe.Training with { TrainingSteps = StepSpec.Parse("2ep") },
};
var lab = new Lab();
using var a = lab.Train(recipe with { Training = recipe.Training with { DataOrderSeed = 1 } }, seed: 1);
using var b = lab.Train(recipe with { Training = recipe.Training with { DataOrderSeed = 2 } }, seed: 1);
var curve = lab.Interpolate(a, b, new InterpolationOptions { Points = 11 });
foreach (var point in curve.Points) Console.WriteLine($"alpha {point.Alpha:F1}: test error {point.TestError:P2}");
Console.WriteLine($"error barrier {curve.ErrorBarrier:P2} (stable to SGD noise under {InterpolationCurve.StabilityThreshold:P0})");
Console.WriteLine($"normalized L2 distance {lab.Distance(a, b).NormalizedL2Distance:F3}");
