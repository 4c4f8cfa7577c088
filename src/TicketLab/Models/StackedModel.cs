using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Models;

/// <summary>
/// N networks of one architecture as one module: each parameter of the lone network becomes one
/// tensor with a leading dimension of N, and the forward pass takes <c>[N, B, ...]</c> inputs to
/// <c>[N, B, classes]</c> logits with batched products, so N small networks cost a few large
/// kernels instead of N times as many small ones. The members (lone models built as a lone run
/// builds them) keep existing: their parameters become views of their slices of the stack, so
/// saving, evaluating or loading a member reads and writes the stack.
/// </summary>
public abstract class StackedModel : nn.Module<Tensor, Tensor>
{
    private readonly List<(string Name, Parameter Stacked)> stacked = [];

    protected StackedModel(string name, IReadOnlyList<TicketModel> members) : base(name)
    {
        if (members.Count == 0) throw new ArgumentException("no networks to stack", nameof(members));
        Members = members;
    }

    public IReadOnlyList<TicketModel> Members { get; }
    public int Networks => Members.Count;

    /// <summary>Each stacked parameter with the name the members give the tensors it holds (<c>fc.weight</c>).</summary>
    public IReadOnlyList<(string Name, Parameter Stacked)> StackedParameters => stacked;

    /// <summary>The stack of a lone network's architecture, or null when it has none (train its members alone).</summary>
    public static StackedModel? TryCreate(IReadOnlyList<TicketModel> members) =>
        members.Count > 0 && members.All(m => m is LeNet) && members.All(m => SameShapes(m, members[0])) ? new StackedLeNet(members) : null;

    /// <summary>Whether a model of this registry name can be stacked (checked before building anything).</summary>
    public static bool Supports(string modelName) => modelName.StartsWith("lenet_", StringComparison.Ordinal);

    /// <summary>
    /// Copies the members' values of <paramref name="name"/> into a new stacked parameter and makes
    /// each member's tensor a view of its slice.
    /// </summary>
    protected Parameter Stack(string name, string registeredAs)
    {
        using var _ = no_grad();
        var tensors = Members.Select(m => m.NamedParameterMap()[name]).ToArray();
        var parameter = new Parameter(stack(tensors).DetachFromDisposeScope());
        register_parameter(registeredAs, parameter);
        var values = parameter.detach();
        for (int i = 0; i < tensors.Length; i++) tensors[i].set_(values.select(0, i));
        stacked.Add((name, parameter));
        return parameter;
    }

    private static bool SameShapes(TicketModel a, TicketModel b)
    {
        var left = a.named_parameters().Select(p => (p.name, Shape: string.Join(',', p.parameter.shape))).ToArray();
        var right = b.named_parameters().Select(p => (p.name, Shape: string.Join(',', p.parameter.shape))).ToArray();
        return left.SequenceEqual(right) && !a.buffers().Any();
    }
}

/// <summary>
/// Stacked LeNets: each linear layer is <c>bmm(x, Wᵀ) + bias</c> over weights <c>[N, out, in]</c>,
/// the same products a lone LeNet's <c>addmm</c> makes, batched.
/// </summary>
internal sealed class StackedLeNet : StackedModel
{
    private readonly (Parameter Weight, Parameter Bias)[] layers;

    public StackedLeNet(IReadOnlyList<TicketModel> members) : base("StackedLeNet", members)
    {
        // Hidden layers in order, then the output layer (registered first, as a field of LeNet).
        string output = members[0].OutputLayerName;
        var hidden = members[0].named_modules().Where(m => m.module is Linear && m.name != output).Select(m => m.name);
        var linears = hidden.Append(output).ToArray();
        layers = linears.Select((name, i) => (Stack($"{name}.weight", $"weight{i}"), Stack($"{name}.bias", $"bias{i}"))).ToArray();
    }

    public override Tensor forward(Tensor input)
    {
        var x = input.flatten(2);
        for (int i = 0; i < layers.Length; i++)
        {
            var (weight, bias) = layers[i];
            var next = x.bmm(weight.transpose(1, 2)).add_(bias.unsqueeze(1)); // TorchSharp 0.107 passes baddbmm's operands in another order
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = i < layers.Length - 1 ? next.relu_() : next;
        }
        return x;
    }
}
