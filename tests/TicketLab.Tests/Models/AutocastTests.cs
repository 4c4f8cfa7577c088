using TicketLab.Hyperparameters;
using TicketLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Models;

/// <summary>Autocast: conv and linear layers in bfloat16 inside a scope, float32 everywhere else.</summary>
public sealed class AutocastTests
{
    [Theory]
    [InlineData("resnet_8", 3)]
    [InlineData("vgg_11", 3)]
    [InlineData("conv2", 3)]
    [InlineData("lenet_32_16", 1)]
    public void Inside_a_bf16_scope_the_output_is_bf16_close_to_but_not_the_float32_forward(string name, int channels)
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = name }, new InputSpec(channels, 32, 32, 10), 3);
        model.eval();
        using var images = randn([4, channels, 32, 32], generator: new Generator(1));
        using var exact = model.forward(images);
        Tensor mixed;
        using (Autocast.Enable(ScalarType.BFloat16))
        {
            Assert.Equal(ScalarType.BFloat16, Autocast.Active);
            mixed = model.forward(images);
        }
        Assert.Null(Autocast.Active);
        using (mixed)
        {
            Assert.Equal(ScalarType.BFloat16, mixed.dtype);
            Assert.False(mixed.eq(exact).all().item<bool>(), "bfloat16 rounds: the outputs must differ");
            double error = (mixed - exact).abs().max().item<float>(), scale = exact.abs().max().item<float>();
            Assert.True(error < 0.05 * scale, $"largest difference {error} against outputs up to {scale}");
        }
        using var again = model.forward(images); // the scope is gone: float32 again, exactly
        Assert.True(again.eq(exact).all().item<bool>());
    }

    [Fact]
    public void Gradients_reach_the_float32_weights_in_float32()
    {
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = "resnet_8" }, new InputSpec(3, 8, 8, 10), 3);
        model.train();
        using (Autocast.Enable(ScalarType.BFloat16))
            nn.functional.cross_entropy(model.forward(randn(4, 3, 8, 8)).to(ScalarType.Float32), randint(0, 10, 4)).backward();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, parameter.dtype);
            using var grad = parameter.grad;
            Assert.True(grad is not null, $"{name} has no gradient");
            Assert.Equal(ScalarType.Float32, grad!.dtype);
            Assert.True(grad.abs().sum().item<float>() > 0, $"{name}'s gradient is zero");
        }
    }

    [Fact]
    public void A_weight_cast_channels_last_has_the_plain_casts_values_and_passes_the_same_gradient_back()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var input = randn(2, 8, 6, 6).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).to(ScalarType.BFloat16);
        var plainWeight = randn(4, 8, 3, 3).requires_grad_();
        var packedWeight = plainWeight.detach().clone().requires_grad_();

        var plain = plainWeight.to(ScalarType.BFloat16);
        var packed = Autocast.CastChannelsLast(packedWeight, ScalarType.BFloat16);
        Assert.Equal(plain.shape, packed.shape);
        Assert.Equal(ScalarType.BFloat16, packed.dtype);
        Assert.Equal(1, packed.stride(1)); // channels innermost in memory
        Assert.True(plain.eq(packed).all().item<bool>());

        nn.functional.conv2d(input, plain, padding: [1, 1]).to(ScalarType.Float32).square().sum().backward();
        nn.functional.conv2d(input, packed, padding: [1, 1]).to(ScalarType.Float32).square().sum().backward();
        Assert.Equal(ScalarType.Float32, packedWeight.grad!.dtype);
        Assert.True(plainWeight.grad!.allclose(packedWeight.grad!, rtol: 1e-2, atol: 1e-2), "the channels-last cast changed the weight's gradient");
        Assert.True(packedWeight.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Scopes_nest_and_restore_what_was_in_effect()
    {
        using (Autocast.Enable(ScalarType.BFloat16))
        {
            using (Autocast.Enable(null)) Assert.Null(Autocast.Active);
            Assert.Equal(ScalarType.BFloat16, Autocast.Active);
        }
        Assert.Null(Autocast.Active);
    }
}
