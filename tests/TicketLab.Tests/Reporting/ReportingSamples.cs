using System.Globalization;
using TicketLab.Reporting;

namespace TicketLab.Tests.Reporting;

/// <summary>Figures and reports shaped like the lottery-ticket plots, for the reporting tests.</summary>
internal static class ReportingSamples
{
    public static readonly double[] Remaining = [100, 51.2, 26.2, 13.4, 6.9, 3.6, 1.8];

    /// <summary>Accuracy versus % of weights remaining: two series, one with a min-max band, a dense reference line.</summary>
    public static Figure Accuracy(string name = "accuracy") => new(name, "Test accuracy at early stopping",
        "Percent of weights remaining (%)", "Test accuracy (%)",
        [
            new Series("Winning ticket", Remaining, [98.1, 98.5, 98.7, 98.6, 98.2, 97.4, 95.9],
                Low: [97.9, 98.3, 98.5, 98.4, 97.9, 96.9, 95.1], High: [98.3, 98.7, 98.9, 98.8, 98.5, 97.8, 96.6]),
            new Series("Random reinit", Remaining, [98.1, 97.9, 97.3, 96.5, 95.1, 93.0, 89.7], Dashed: true),
        ])
    {
        ReverseX = true,
        LogX = true,
        XTicks = Remaining,
        ReferenceLines = [new ReferenceLine("Dense network", 98.1)],
    };

    /// <summary>Loss versus iteration, one series, linear axes, awkward doubles (0.1 + 0.2 and friends).</summary>
    public static Figure Loss(string name = "loss")
    {
        var x = Enumerable.Range(0, 60).Select(i => i * 250.0).ToArray();
        var y = x.Select(i => 2.3 * Math.Exp(-i / 4000.0) + 0.1 + 0.2 + 1e-17 * i).ToArray();
        y[3] = 1.0 / 3.0;
        return new Figure(name, "Training loss", "Iteration", "Cross-entropy loss", [new Series("lenet_300_100", x, y)]);
    }

    public static Report Report(string title = "LeNet on MNIST", params Figure[] figures) => new(title,
        [new ReportTable("Training", ["Hyperparameter", "Value"], [["lr", "0.0012"], ["batch_size", "60"], ["optimizer", "adam"]])],
        [
            new ReportSection("Accuracy", [new ReportTable("Final accuracy", ["Remaining (%)", "Accuracy (%)"],
                Remaining.Select(r => (IReadOnlyList<string>)[r.ToString(CultureInfo.InvariantCulture), "98.0"]).ToList())],
                figures.Length > 0 ? figures.Take(1).ToList() : [Accuracy()],
                Text: "Iterative magnitude pruning, 20% per round.\n\nDashed lines: random reinitialization."),
            new ReportSection("Training curves", [], figures.Length > 1 ? figures.Skip(1).ToList() : [Loss()]),
        ]);
}
