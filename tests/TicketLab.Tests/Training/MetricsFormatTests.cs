using System.Globalization;
using TicketLab.Store;
using TicketLab.Tests.Support;
using TicketLab.Training;

namespace TicketLab.Tests.Training;

/// <summary>metrics.csv as pandas reads it: one step for every metric of an evaluation point, names for what they are.</summary>
public sealed class MetricsFormatTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Every_metric_of_an_epoch_end_shares_its_step_so_a_pivot_gives_one_row_per_step()
    {
        string data = LearnableData.WriteMnist(temp.Combine("data"));
        var summary = TrainingRunner.Train(TestRuns.TinyLenet("2ep"), 1, new RunOptions(), TestRuns.Context(temp.Combine("store"), data));
        var rows = MetricsLog.Read(new RunFolder(summary.Folder).MetricsPath);

        // 256 examples in batches of 32: epochs end at steps 8 and 16.
        Assert.Equal([8L, 16], rows.Where(r => r.Name == MetricsLog.LearningRate).Select(r => r.Step));
        Assert.Equal([8L, 16], rows.Where(r => r.Name == MetricsLog.TrainLossEpochMean).Select(r => r.Step));
        Assert.Equal([8L, 16], rows.Where(r => r.Name == MetricsLog.TrainAccuracyEpochMean).Select(r => r.Step));
        Assert.Equal([0L, 8, 16], rows.Where(r => r.Name == "test_accuracy").Select(r => r.Step));
        Assert.DoesNotContain(rows, r => r.Name.StartsWith("train_batch", StringComparison.Ordinal));

        // The pivot pandas would make: at each epoch end, every metric is in the same row.
        foreach (var step in new long[] { 8, 16 })
            Assert.Equal(["learning_rate", "test_accuracy", "test_loss", "train_accuracy_epoch_mean", "train_loss_epoch_mean"],
                rows.Where(r => r.Step == step).Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(rows.Where(r => r.Name == MetricsLog.LearningRate), r => Assert.Equal(0.05, r.Value));
        Assert.All(rows.Where(r => r.Name.Contains("accuracy", StringComparison.Ordinal)), r => Assert.InRange(r.Value, 0, 1));
        Assert.Contains("train_loss_epoch_mean,8,", File.ReadAllText(new RunFolder(summary.Folder).MetricsPath));
    }

    [Fact]
    public void An_earlier_log_reads_with_todays_names_and_its_learning_rate_moved_to_the_epoch_end()
    {
        string path = temp.Combine("metrics.csv");
        File.WriteAllText(path, """
            name,step,value
            test_loss,0,2.3
            test_accuracy,0,0.1
            train_batch_loss,79,0.5
            train_batch_accuracy,79,0.8
            learning_rate,78,0.1
            test_loss,79,0.4
            test_accuracy,79,0.88

            """.Replace("\r\n", "\n"));
        var rows = MetricsLog.Read(path);
        Assert.Equal(
        [
            new MetricRow("test_loss", 0, 2.3), new MetricRow("test_accuracy", 0, 0.1),
            new MetricRow(MetricsLog.TrainLossEpochMean, 79, 0.5), new MetricRow(MetricsLog.TrainAccuracyEpochMean, 79, 0.8),
            new MetricRow(MetricsLog.LearningRate, 79, 0.1), new MetricRow("test_loss", 79, 0.4), new MetricRow("test_accuracy", 79, 0.88),
        ], rows);

        // Today's logs keep their steps: a learning rate logged at its own step is not moved.
        File.WriteAllText(path, "name,step,value\ntrain_loss_epoch_mean,79,0.5\nlearning_rate,79,0.1\n");
        Assert.Equal(79, MetricsLog.Read(path).Single(r => r.Name == MetricsLog.LearningRate).Step);
    }

    [Fact]
    public void Values_are_written_in_their_shortest_round_trip_form()
    {
        string path = temp.Combine("metrics.csv");
        using (var log = new MetricsLog(path))
        {
            log.Open(0);
            log.Add("test_accuracy", 8, 0.7362);
            log.Add("test_loss", 8, 1.0 / 3.0);
        }
        var lines = File.ReadAllLines(path);
        Assert.Equal("test_accuracy,8,0.7362", lines[1]);
        Assert.Equal(1.0 / 3.0, double.Parse(lines[2].Split(',')[2], CultureInfo.InvariantCulture));
    }
}
