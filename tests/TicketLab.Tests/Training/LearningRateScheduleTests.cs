using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Training;

namespace TicketLab.Tests.Training;

public sealed class LearningRateScheduleTests
{
    private const int PerEpoch = 100;

    [Fact]
    public void Multi_step_multiplies_by_gamma_at_each_milestone()
    {
        var schedule = new LearningRateSchedule(new TrainingHparams
        {
            Lr = 0.1, Gamma = 0.1, TrainingSteps = StepSpec.Parse("160ep"),
            MilestoneSteps = [StepSpec.Parse("80ep"), StepSpec.Parse("120ep")],
        }, PerEpoch);
        Assert.Equal(0.1, schedule.At(0), 12);
        Assert.Equal(0.1, schedule.At(80 * PerEpoch - 1), 12);
        Assert.Equal(0.01, schedule.At(80 * PerEpoch), 12);
        Assert.Equal(0.001, schedule.At(120 * PerEpoch), 12);
    }

    [Fact]
    public void Warmup_rises_linearly_from_zero_then_the_schedule_applies()
    {
        var schedule = new LearningRateSchedule(new TrainingHparams
        {
            Lr = 0.03, TrainingSteps = StepSpec.Parse("160ep"), WarmupSteps = StepSpec.Parse("30000it"),
            MilestoneSteps = [StepSpec.Parse("80ep")],
        }, iterationsPerEpoch: 1000);
        Assert.Equal(0.0, schedule.At(0), 12);
        Assert.Equal(0.03 * 0.5, schedule.At(15000), 12);
        Assert.Equal(0.03, schedule.At(30000), 12);
        Assert.Equal(0.03, schedule.At(79999), 12);
        Assert.Equal(0.003, schedule.At(80000), 12);
    }

    [Fact]
    public void Cosine_goes_from_lr_to_zero()
    {
        var schedule = new LearningRateSchedule(new TrainingHparams
        {
            Lr = 0.2, LrSchedule = LrSchedule.Cosine, TrainingSteps = StepSpec.Parse("10ep"),
        }, PerEpoch);
        Assert.Equal(0.2, schedule.At(0), 12);
        Assert.Equal(0.1, schedule.At(500), 12);
        Assert.Equal(0.2 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), schedule.At(250), 12);
        Assert.Equal(0.0, schedule.At(1000), 12);
    }

    [Fact]
    public void Constant_never_changes()
    {
        var schedule = new LearningRateSchedule(new TrainingHparams { Lr = 0.5, LrSchedule = LrSchedule.Constant }, PerEpoch);
        Assert.All(new long[] { 0, 1, 999, 100000 }, it => Assert.Equal(0.5, schedule.At(it)));
    }

    [Fact]
    public void Invalid_recipes_name_the_flag()
    {
        var error = Assert.Throws<HparamException>(() => new TrainingHparams { Lr = -1 }.Validate());
        Assert.Equal("--lr", error.Flag);
        error = Assert.Throws<HparamException>(() => new TrainingHparams { NesterovMomentum = true }.Validate());
        Assert.Equal("--nesterov-momentum", error.Flag);
    }
}
