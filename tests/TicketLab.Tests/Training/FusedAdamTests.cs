using TicketLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Tests.Training;

public sealed class FusedAdamTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-4)]
    public void Steps_agree_with_TorchSharps_Adam_to_rounding_and_keep_its_state(double weightDecay)
    {
        using var generator = new Generator(3);
        var start = randn([1000, 37], generator: generator); // not a multiple of the vector width: the tail is updated too
        var plain = new Parameter(start.clone());
        var fused = new Parameter(start.clone());
        using var adam = optim.Adam([plain], 1e-2, weight_decay: weightDecay);
        using var fusedAdam = new FusedAdam([fused], 1e-2, weightDecay);
        for (int step = 0; step < 20; step++)
        {
            var gradient = randn([1000, 37], generator: generator);
            plain.grad = gradient.clone();
            fused.grad = gradient.clone();
            adam.step();
            fusedAdam.step();
        }
        double difference = (plain - fused).abs().max().item<float>();
        Assert.True(difference < 1e-5, $"largest difference {difference}");
        Assert.True((plain - start).abs().max().item<float>() > 0.1, "the weights moved");
        var (a, b) = ((Adam.State)adam.state_dict().State[0], (Adam.State)fusedAdam.state_dict().State[0]);
        Assert.Equal(a.step, b.step);
        Assert.True((a.exp_avg_sq - b.exp_avg_sq).abs().max().item<float>() < 1e-6);
    }
}
