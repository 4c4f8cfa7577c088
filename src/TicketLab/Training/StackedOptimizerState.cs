using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TicketLab.Training;

/// <summary>
/// Moves optimizer state between a stacked optimizer and its members' lone ones. SGD and Adam work
/// element by element, so one optimizer over stacked tensors is N lone optimizers whose state
/// (momentum, Adam's moments) are slices of its own. Each member keeps a lone optimizer only to
/// write and read its checkpoint in the lone format: <see cref="Scatter"/> fills it before a
/// checkpoint, <see cref="Gather"/> takes a loaded one back.
/// </summary>
internal sealed class StackedOptimizerState(OptimizerHelper stacked, IReadOnlyList<string> stackedNames,
    IReadOnlyList<OptimizerHelper> members, IReadOnlyList<IReadOnlyList<string>> memberNames)
{
    /// <summary>Copies member <paramref name="index"/>'s slices of the stacked state (and its learning rate) into its lone optimizer.</summary>
    public void Scatter(int index)
    {
        using var _ = no_grad();
        var member = members[index];
        OptimizerFactory.SetLearningRate(member, stacked.ParamGroups.First().LearningRate);
        foreach (var (from, to) in Pairs(index))
            switch (from, to)
            {
                case (SGD.State s, SGD.State m): ScatterTensor(s.momentum_buffer, ref m.momentum_buffer, index); break;
                case (Adam.State s, Adam.State m):
                    m.step = s.step;
                    ScatterTensor(s.exp_avg, ref m.exp_avg, index);
                    ScatterTensor(s.exp_avg_sq, ref m.exp_avg_sq, index);
                    ScatterTensor(s.max_exp_avg_sq, ref m.max_exp_avg_sq, index);
                    break;
                default: throw new NotSupportedException($"stacked training does not know the state of {stacked.GetType().Name}");
            }
    }

    /// <summary>Copies every member's lone optimizer state into its slices of the stacked state (after the members' checkpoints were loaded).</summary>
    public void Gather()
    {
        using var _ = no_grad();
        var perMember = Enumerable.Range(0, members.Count).Select(i => Pairs(i).ToArray()).ToArray();
        for (int k = 0; k < stackedNames.Count; k++)
        {
            var from = perMember[0][k].Stacked;
            var parts = perMember.Select(p => p[k].Member).ToArray();
            switch (from)
            {
                case SGD.State s: GatherTensor(ref s.momentum_buffer, parts.Select(p => ((SGD.State)p).momentum_buffer).ToArray()); break;
                case Adam.State s:
                    var adam = parts.Cast<Adam.State>().ToArray();
                    if (adam.Any(a => a.step != adam[0].step)) throw new InvalidDataException("the networks' optimizers are at different steps");
                    s.step = adam[0].step;
                    GatherTensor(ref s.exp_avg, adam.Select(a => a.exp_avg).ToArray());
                    GatherTensor(ref s.exp_avg_sq, adam.Select(a => a.exp_avg_sq).ToArray());
                    GatherTensor(ref s.max_exp_avg_sq, adam.Select(a => a.max_exp_avg_sq).ToArray());
                    break;
                default: throw new NotSupportedException($"stacked training does not know the state of {stacked.GetType().Name}");
            }
        }
    }

    /// <summary>Each stacked parameter's state with the member's state of the same parameter, in stacked order.</summary>
    private IEnumerable<(OptimizerState Stacked, OptimizerState Member)> Pairs(int index)
    {
        var stackedStates = stacked.state_dict().State;
        var memberStates = members[index].state_dict().State;
        var position = memberNames[index].Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        for (int k = 0; k < stackedNames.Count; k++) yield return (stackedStates[k], memberStates[position[stackedNames[k]]]);
    }

    private static void ScatterTensor(Tensor? stackedValue, ref Tensor? memberValue, int index)
    {
        if (stackedValue is null)
        {
            memberValue?.Dispose();
            memberValue = null;
            return;
        }
        var slice = stackedValue.select(0, index);
        if (memberValue is null) memberValue = slice.clone().DetachFromDisposeScope();
        else memberValue.copy_(slice);
        slice.Dispose();
    }

    private static void GatherTensor(ref Tensor? stackedValue, Tensor?[] memberValues)
    {
        if (memberValues.All(v => v is null))
        {
            stackedValue?.Dispose();
            stackedValue = null;
            return;
        }
        if (memberValues.Any(v => v is null)) throw new InvalidDataException("some of the networks' optimizer states have started, others not");
        var gathered = stack(memberValues!).DetachFromDisposeScope();
        if (stackedValue is null) stackedValue = gathered;
        else
        {
            stackedValue.copy_(gathered);
            gathered.Dispose();
        }
    }
}
