using TicketLab.Cli;
using TicketLab.Tests.Support;
using System.Text.Json.Nodes;

namespace TicketLab.Tests.Training;

/// <summary>The real thing: one epoch of the lenet_300_100 preset on the full Fashion-MNIST, through the CLI.</summary>
public sealed class FashionMnistEndToEndTests
{
    [Fact]
    public void One_epoch_of_lenet_300_100_reaches_78_percent()
    {
        Assert.True(Directory.Exists("/usr/share/datasets/fashion-mnist"),
            "Fashion-MNIST is missing: install the Debian package dataset-fashion-mnist (.ci/run does).");
        using var temp = new TempFolder();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["train", "--preset", "lenet_300_100", "--training-steps", "1ep", "--root", temp.Path, "--json", "--quiet"],
            CliEnvironment.ForTests(stdout, stderr));
        Assert.True(code == 0, stderr.ToString());
        var summary = JsonNode.Parse(stdout.ToString())!;
        double accuracy = (double)summary["final_test_accuracy"]!;
        Assert.True(accuracy >= 0.78, $"test accuracy after one epoch: {accuracy:P2}");
        Assert.Equal(469, (int)summary["iterations"]!);
    }
}
