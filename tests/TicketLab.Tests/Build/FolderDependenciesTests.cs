using System.Text;
using Xunit.Abstractions;

namespace TicketLab.Tests.Build;

/// <summary>
/// The library's top-level folders (src/TicketLab/X, namespace TicketLab.X and below; Api's types
/// live in the root namespace TicketLab) may depend on each other only downwards: no cycles, and no
/// folder depending on one above it in <see cref="Layers"/>. The graph is read from the compiled
/// TicketLab.dll (<see cref="FolderDependencies"/>); see it with
///   dotnet test --filter FolderDependencies --logger "console;verbosity=detailed"
/// </summary>
public sealed class FolderDependenciesTests(ITestOutputHelper output)
{
    /// <summary>
    /// THE LAYERS, bottom to top: a folder may depend only on folders listed before it. Read off
    /// the compiled graph (Print_the_folder_graph), with the fewest edges against it (the seven in
    /// KnownCycleEdges; no order has fewer). Beside each: what it depends on today, KnownCycleEdges
    /// left out. Devices has no edges either way today.
    /// </summary>
    private static readonly string[] Layers =
    [
        "Foundations",      // -> nothing
        "Devices",          // -> nothing (used by the CLI only)
        "Store",            // -> Foundations
        "Hyperparameters",  // -> Foundations
        "Data",             // -> nothing
        "Models",           // -> Data, Hyperparameters
        "Training",         // -> Data, Foundations, Hyperparameters, Models, Store
        "Pruning",          // -> Foundations, Hyperparameters, Models, Training
        "Lottery",          // -> Data, Foundations, Hyperparameters, Models, Pruning, Store, Training
        "Reporting",        // -> Store, Training (TensorBoard observer)
        "Analysis",         // -> Data, Foundations, Hyperparameters, Lottery, Models, Pruning, Reporting, Store, Training
        "Experiments",      // -> Analysis, Foundations, Hyperparameters, Lottery, Reporting, Store, Training
        "Studies",          // -> Experiments, Foundations, Lottery, Reporting, Store
        "Interop",          // -> Data, Experiments, Foundations, Hyperparameters, Lottery, Models, Pruning, Store, Training
        "Api",              // -> Analysis, Data, Foundations, Hyperparameters, Models, Pruning, Store, Training
    ];

    /// <summary>
    /// TO BE REMOVED: the edges (from -> to) that go up <see cref="Layers"/> today, each of them
    /// closing a cycle. Both tests accept exactly these: a new one fails them, and so does one of
    /// these that is gone (then delete its line here). Empty this list, then delete it.
    /// Print_the_folder_graph lists every reference behind each of them.
    /// </summary>
    private static readonly (string From, string To)[] KnownCycleEdges = [];

    private static readonly Lazy<FolderDependencies> Graph = new(FolderDependencies.OfLibrary);

    private static bool Known(FolderEdge e) => KnownCycleEdges.Contains((e.From, e.To));

    [Fact]
    public void Print_the_folder_graph()
    {
        var graph = Graph.Value;
        output.WriteLine(graph.Render());
        foreach (var component in graph.Components())
        {
            output.WriteLine($"Cycles among {string.Join(", ", component)}:");
            foreach (var cycle in graph.Cycles(component)) output.WriteLine(graph.DescribeCycle(cycle));
        }
        output.WriteLine("Every reference behind the edges to be removed (KnownCycleEdges):");
        foreach (var (from, to) in KnownCycleEdges)
            if (graph.Edge(from, to) is { } edge)
                output.WriteLine(FolderDependencies.DescribeEdge(edge, evidence: int.MaxValue));
        Assert.NotEmpty(graph.Edges);
    }

    [Fact]
    public void Library_folders_do_not_depend_on_each_other_in_cycles()
    {
        var graph = Graph.Value;
        var problems = new StringBuilder();

        // Cycles left once the allow-listed edges are taken out: new ones.
        foreach (var component in graph.Components(e => !Known(e)))
        {
            problems.AppendLine($"Folders {string.Join(", ", component)} depend on each other in a cycle:");
            foreach (var cycle in graph.Cycles(component, e => !Known(e))) problems.Append(graph.DescribeCycle(cycle));
        }

        // Allow-listed edges that no longer close a cycle.
        var onCycles = graph.Components().SelectMany(c => c.Select(f => (Folder: f, Component: c)))
                            .ToDictionary(x => x.Folder, x => x.Component);
        foreach (var (from, to) in KnownCycleEdges)
        {
            if (graph.Edge(from, to) is null)
                problems.AppendLine($"{from} -> {to} is gone: delete it from KnownCycleEdges.");
            else if (!onCycles.TryGetValue(from, out var c) || !c.Contains(to))
                problems.AppendLine($"{from} -> {to} closes no cycle any more: delete it from KnownCycleEdges " +
                                    $"(and move {from} above {to} in Layers if that is where it belongs).");
        }

        Assert.True(problems.Length == 0, "\n" + problems);
    }

    [Fact]
    public void Library_folders_depend_only_on_lower_layers()
    {
        var graph = Graph.Value;
        var problems = new StringBuilder();

        var unlisted = graph.Folders.Except(Layers).ToList();
        if (unlisted.Count > 0)
            problems.AppendLine($"Folders missing from Layers: {string.Join(", ", unlisted)}.");
        var stale = Layers.Except(graph.Folders).ToList();
        if (stale.Count > 0)
            problems.AppendLine($"Layers that are no folder of TicketLab.dll: {string.Join(", ", stale)}.");

        int Level(string folder) => Array.IndexOf(Layers, folder);
        var upward = graph.Edges.Where(e => Level(e.From) >= 0 && Level(e.To) >= 0 && Level(e.From) < Level(e.To))
                                .OrderBy(e => Level(e.From)).ThenBy(e => Level(e.To)).ToList();
        foreach (var edge in upward.Where(e => !Known(e)))
        {
            problems.AppendLine($"{edge.From} (layer {Level(edge.From)}) depends on {edge.To} (layer {Level(edge.To)}), above it:");
            problems.Append(FolderDependencies.DescribeEdge(edge, indent: "  "));
        }
        foreach (var (from, to) in KnownCycleEdges.Where(k => !upward.Any(e => e.From == k.From && e.To == k.To)))
            problems.AppendLine(graph.Edge(from, to) is null
                ? $"{from} -> {to} is gone: delete it from KnownCycleEdges."
                : $"{from} -> {to} no longer goes up the layers: delete it from KnownCycleEdges.");

        Assert.True(problems.Length == 0, "\n" + problems);
    }

    [Fact]
    public void Components_are_the_cycles_of_a_graph()
    {
        var nodes = new[] { "A", "B", "C", "D", "E", "F" };
        var edges = new[] { ("A", "B"), ("B", "C"), ("C", "A"), ("C", "D"), ("D", "E"), ("E", "D"), ("F", "F") };
        var components = FolderDependencies.Components(nodes, edges);
        Assert.Equal(["A,B,C", "D,E"], components.Select(c => string.Join(",", c)));
        Assert.Empty(FolderDependencies.Components(nodes, edges.Where(e => e != ("C", "A") && e != ("E", "D"))));
    }

    [Theory]
    [InlineData("TicketLab", "Api")]
    [InlineData("TicketLab.Lottery", "Lottery")]
    [InlineData("TicketLab.Lottery.Branches", "Lottery")]
    [InlineData("TicketLab.Experiments.Kinds", "Experiments")]
    [InlineData("TicketLabs", null)]
    [InlineData("System.Runtime.CompilerServices", null)]
    [InlineData("", null)]
    public void Folders_are_the_first_namespace_below_TicketLab(string ns, string? folder) =>
        Assert.Equal(folder, FolderDependencies.FolderOfNamespace(ns));
}
