using TicketLab.Training;

namespace TicketLab.Tests.Training;

public sealed class TimingTests
{
    [Fact]
    public void The_first_epoch_is_left_out_of_the_median_when_there_are_others()
    {
        // Spans 3.0 (warm-up), 1.0, 2.0, 1.5: the median of the last three.
        Assert.Equal(1.5, TimingCallback.MedianOfSteadyEpochs([0, 3.0, 4.0, 6.0, 7.5]), 12);
    }

    [Fact]
    public void An_even_number_of_steady_epochs_takes_the_mean_of_the_middle_two()
    {
        Assert.Equal(1.5, TimingCallback.MedianOfSteadyEpochs([0, 5.0, 6.0, 8.0]), 12);
    }

    [Fact]
    public void A_single_whole_epoch_is_its_own_median_and_none_is_undefined()
    {
        Assert.Equal(1.25, TimingCallback.MedianOfSteadyEpochs([2.0, 3.25]), 12);
        Assert.True(double.IsNaN(TimingCallback.MedianOfSteadyEpochs([2.0])));
        Assert.True(double.IsNaN(TimingCallback.MedianOfSteadyEpochs([])));
    }
}
