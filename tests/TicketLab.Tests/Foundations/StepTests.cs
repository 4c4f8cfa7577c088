using TicketLab.Foundations;

namespace TicketLab.Tests.Foundations;

public sealed class StepTests
{
    [Theory]
    [InlineData("160ep", 160, 0)]
    [InlineData("30000it", 0, 30000)]
    [InlineData("2ep100it", 2, 100)]
    [InlineData(" 3ep ", 3, 0)]
    [InlineData("0it", 0, 0)]
    public void Parses_epochs_and_iterations(string text, long epochs, long iterations)
    {
        var spec = StepSpec.Parse(text);
        Assert.Equal(new StepSpec(epochs, iterations), spec);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ep")]
    [InlineData("12")]
    [InlineData("3it2ep")]
    [InlineData("-1ep")]
    [InlineData("1.5ep")]
    public void Rejects_malformed_steps_with_an_example_of_the_form(string text)
    {
        var error = Assert.Throws<FormatException>(() => StepSpec.Parse(text));
        Assert.Contains("160ep", error.Message);
    }

    [Fact]
    public void Resolves_against_epoch_length()
    {
        var step = StepSpec.Parse("2ep100it").ToStep(469);
        Assert.Equal(2 * 469 + 100, step.Iteration);
        Assert.Equal(2, step.Epoch);
        Assert.Equal(100, step.IterationInEpoch);
        Assert.Equal("ep2_it100", step.Label);
        Assert.Equal(step, StepSpec.Parse("1038it").ToStep(469));
    }

    [Fact]
    public void Canonical_text_round_trips()
    {
        foreach (var text in new[] { "160ep", "500it", "2ep100it", "0it" })
            Assert.Equal(text, StepSpec.Parse(text).ToString());
    }

    [Fact]
    public void Steps_of_different_epoch_lengths_do_not_compare()
    {
        var a = new Step(10, 100);
        var b = new Step(10, 50);
        Assert.Throws<InvalidOperationException>(() => a < b);
        Assert.True(new Step(5, 100) < a);
    }
}
