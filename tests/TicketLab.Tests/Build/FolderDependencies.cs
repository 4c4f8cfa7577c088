using System.Text;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace TicketLab.Tests.Build;

/// <summary>One reference that makes a folder depend on another: a type of the first folder names
/// a type of the second (<paramref name="Via"/> says where: a field, a method body, ...).</summary>
public sealed record FolderReference(string FromType, string ToType, string Via)
{
    public override string ToString() => $"{FromType} -> {ToType} ({Via})";
}

/// <summary>An edge of the folder graph: every distinct (from type, to type) pair behind it, in a
/// fixed order (types the compiler generated last), with the first place each pair was seen.</summary>
public sealed class FolderEdge(string from, string to, IReadOnlyList<FolderReference> references)
{
    public string From { get; } = from;
    public string To { get; } = to;
    public IReadOnlyList<FolderReference> References { get; } = references;
    public IEnumerable<FolderReference> Evidence(int count = 3) => References.Take(count);
    public override string ToString() => $"{From} -> {To}";
}

/// <summary>
/// The dependency graph of TicketLab's top-level folders, read from the compiled assembly with
/// Mono.Cecil. A type belongs to the folder of its namespace (that of its outermost declaring type
/// for nested and compiler-generated types): TicketLab.X and TicketLab.X.* are folder X, and the
/// root namespace TicketLab is folder Api (src/TicketLab/Api declares Lab and Network there).
/// Types outside TicketLab's namespaces (&lt;Module&gt;, attributes the compiler embeds, generated
/// regexes) belong to no folder and are not sources.
///
/// A type depends on every TicketLab type it names: base type, interfaces, generic parameters'
/// constraints, fields, properties, events, method signatures, custom attributes (with typeof
/// arguments), overrides, local variables, exception handlers' catch types, and each operand of
/// its methods' IL (types, fields and methods: their declaring, return, parameter and generic
/// argument types). Arrays, by-refs, pointers, modifiers and generic instances count as the types
/// they are made of. References within one folder are not edges.
/// </summary>
public sealed class FolderDependencies
{
    public const string Root = "TicketLab";
    public const string RootFolder = "Api";

    private readonly Dictionary<(string From, string To), FolderEdge> edges;

    public IReadOnlyCollection<FolderEdge> Edges => edges.Values;
    public IReadOnlyList<string> Folders { get; }
    public int TypeCount { get; }
    /// <summary>Types of the assembly that belong to no folder, by full name.</summary>
    public IReadOnlyList<string> Unattributed { get; }

    private FolderDependencies(Dictionary<(string, string), FolderEdge> edges, IReadOnlyList<string> folders,
                               int typeCount, IReadOnlyList<string> unattributed)
    {
        this.edges = edges;
        Folders = folders;
        TypeCount = typeCount;
        Unattributed = unattributed;
    }

    /// <summary>The TicketLab.dll the tests run against.</summary>
    public static string LibraryPath => typeof(TicketLab.Foundations.Step).Assembly.Location;

    public static FolderDependencies OfLibrary() => Read(LibraryPath);

    public FolderEdge? Edge(string from, string to) => edges.GetValueOrDefault((from, to));

    public IEnumerable<string> DependenciesOf(string folder) =>
        edges.Keys.Where(k => k.From == folder).Select(k => k.To).OrderBy(f => f, StringComparer.Ordinal);

    /// <summary>The folder of a namespace, or null for one outside TicketLab.</summary>
    public static string? FolderOfNamespace(string ns)
    {
        if (ns == Root) return RootFolder;
        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal)) return null;
        var rest = ns[(Root.Length + 1)..];
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type;
    }

    private static string? FolderOf(TypeDefinition type) => FolderOfNamespace(Outermost(type).Namespace);

    private static bool IsGenerated(TypeDefinition type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
            if (t.Name.Contains('<')) return true;
        return false;
    }

    private static string Display(TypeReference type) => type.FullName.Replace('/', '+');

    public static FolderDependencies Read(string assemblyPath)
    {
        var parameters = new ReaderParameters { ReadSymbols = false, ReadingMode = ReadingMode.Deferred };
        using var module = ModuleDefinition.ReadModule(assemblyPath, parameters);
        var pairs = new Dictionary<(string From, string To), Dictionary<(string FromType, string ToType), (string Via, bool Generated)>>();
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        var unattributed = new List<string>();
        int typeCount = 0;

        foreach (var type in module.GetTypes()) // every type, nested ones included
        {
            typeCount++;
            var from = FolderOf(type);
            if (from is null) { unattributed.Add(Display(type)); continue; }
            folders.Add(from);
            var collector = new Collector(module, type, from, IsGenerated(type), pairs);
            collector.Type(type);
        }

        var edges = new Dictionary<(string, string), FolderEdge>();
        foreach (var (key, found) in pairs)
        {
            folders.Add(key.To);
            var references = found
                .OrderBy(p => p.Value.Generated)
                .ThenBy(p => p.Key.FromType, StringComparer.Ordinal)
                .ThenBy(p => p.Key.ToType, StringComparer.Ordinal)
                .Select(p => new FolderReference(p.Key.FromType, p.Key.ToType, p.Value.Via))
                .ToList();
            edges[key] = new FolderEdge(key.From, key.To, references);
        }
        unattributed.Sort(StringComparer.Ordinal);
        return new FolderDependencies(edges, folders.ToList(), typeCount, unattributed);
    }

    /// <summary>Collects the references of one type (its members and their bodies).</summary>
    private sealed class Collector(
        ModuleDefinition module, TypeDefinition source, string from, bool generated,
        Dictionary<(string From, string To), Dictionary<(string FromType, string ToType), (string Via, bool Generated)>> pairs)
    {
        private readonly string sourceName = Display(source);

        public void Type(TypeDefinition type)
        {
            const string self = "type";
            if (type.BaseType is { } baseType) Refer(baseType, "base type");
            foreach (var i in type.Interfaces)
            {
                Refer(i.InterfaceType, "interface");
                Attributes(i, "interface attribute");
            }
            Attributes(type, "attribute");
            GenericParameters(type, self);

            foreach (var field in type.Fields)
            {
                Refer(field.FieldType, $"field {field.Name}");
                Attributes(field, $"attribute of field {field.Name}");
            }
            foreach (var property in type.Properties)
            {
                Refer(property.PropertyType, $"property {property.Name}");
                foreach (var p in property.Parameters) Refer(p.ParameterType, $"property {property.Name}");
                Attributes(property, $"attribute of property {property.Name}");
            }
            foreach (var e in type.Events)
            {
                Refer(e.EventType, $"event {e.Name}");
                Attributes(e, $"attribute of event {e.Name}");
            }
            foreach (var method in type.Methods) Method(method);
        }

        private void Method(MethodDefinition method)
        {
            string signature = $"signature of {method.Name}";
            Refer(method.ReturnType, signature);
            Attributes(method.MethodReturnType, signature);
            foreach (var p in method.Parameters)
            {
                Refer(p.ParameterType, signature);
                Attributes(p, signature);
            }
            GenericParameters(method, signature);
            Attributes(method, $"attribute of {method.Name}");
            foreach (var o in method.Overrides) MethodRef(o, signature);

            if (!method.HasBody) return;
            string body = $"body of {method.Name}";
            var il = method.Body;
            foreach (var v in il.Variables) Refer(v.VariableType, body);
            foreach (var h in il.ExceptionHandlers)
                if (h.CatchType is { } c) Refer(c, body);
            foreach (var instruction in il.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t: Refer(t, body); break;
                    case MethodReference m: MethodRef(m, body); break;
                    case FieldReference f:
                        Refer(f.DeclaringType, body);
                        Refer(f.FieldType, body);
                        break;
                    case CallSite site:
                        Refer(site.ReturnType, body);
                        foreach (var p in site.Parameters) Refer(p.ParameterType, body);
                        break;
                }
            }
        }

        private void MethodRef(MethodReference m, string via)
        {
            Refer(m.DeclaringType, via);
            Refer(m.ReturnType, via);
            foreach (var p in m.Parameters) Refer(p.ParameterType, via);
            if (m is GenericInstanceMethod g)
                foreach (var a in g.GenericArguments) Refer(a, via);
        }

        private void GenericParameters(IGenericParameterProvider provider, string via)
        {
            foreach (var g in provider.GenericParameters)
            {
                Attributes(g, via);
                foreach (var c in g.Constraints)
                {
                    Refer(c.ConstraintType, via);
                    Attributes(c, via);
                }
            }
        }

        private void Attributes(ICustomAttributeProvider provider, string via)
        {
            if (!provider.HasCustomAttributes) return;
            foreach (var a in provider.CustomAttributes)
            {
                MethodRef(a.Constructor, via);
                foreach (var arg in a.ConstructorArguments) Argument(arg, via);
                foreach (var named in a.Fields) Argument(named.Argument, via);
                foreach (var named in a.Properties) Argument(named.Argument, via);
            }
        }

        private void Argument(CustomAttributeArgument argument, string via)
        {
            Refer(argument.Type, via);
            switch (argument.Value)
            {
                case TypeReference t: Refer(t, via); break; // typeof(X)
                case CustomAttributeArgument boxed: Argument(boxed, via); break;
                case CustomAttributeArgument[] array:
                    foreach (var element in array) Argument(element, via);
                    break;
            }
        }

        /// <summary>Records the TicketLab types that <paramref name="type"/> is made of.</summary>
        private void Refer(TypeReference? type, string via)
        {
            if (type is null) return;
            switch (type)
            {
                case GenericParameter:
                    return; // its constraints count where it is declared
                case GenericInstanceType g:
                    Refer(g.ElementType, via);
                    foreach (var a in g.GenericArguments) Refer(a, via);
                    return;
                case RequiredModifierType r:
                    Refer(r.ModifierType, via);
                    Refer(r.ElementType, via);
                    return;
                case OptionalModifierType o:
                    Refer(o.ModifierType, via);
                    Refer(o.ElementType, via);
                    return;
                case FunctionPointerType f:
                    Refer(f.ReturnType, via);
                    foreach (var p in f.Parameters) Refer(p.ParameterType, via);
                    return;
                case TypeSpecification spec: // array, by-ref, pointer, pinned, sentinel
                    Refer(spec.ElementType, via);
                    return;
            }
            var definition = type as TypeDefinition ?? (type.Scope == module ? type.Resolve() : null);
            if (definition is null || definition.Module != module) return; // another assembly's
            var to = FolderOf(definition);
            if (to is null || to == from) return;
            if (!pairs.TryGetValue((from, to), out var found)) pairs[(from, to)] = found = new();
            found.TryAdd((sourceName, Display(definition)), (via, generated));
        }
    }

    /// <summary>Strongly connected components (Tarjan) with more than one folder, each sorted, in
    /// a fixed order; within folders no edges exist, so these are exactly the folders on cycles.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Components(IEnumerable<string> nodes, IEnumerable<(string From, string To)> edgeList)
    {
        var adjacency = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var n in nodes) adjacency.TryAdd(n, new SortedSet<string>(StringComparer.Ordinal));
        foreach (var (f, t) in edgeList)
        {
            adjacency.TryAdd(f, new SortedSet<string>(StringComparer.Ordinal));
            adjacency.TryAdd(t, new SortedSet<string>(StringComparer.Ordinal));
            if (f != t) adjacency[f].Add(t);
        }

        int index = 0;
        var indices = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<IReadOnlyList<string>>();

        void Connect(string v)
        {
            indices[v] = low[v] = index++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in adjacency[v])
            {
                if (!indices.ContainsKey(w))
                {
                    Connect(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                    low[v] = Math.Min(low[v], indices[w]);
            }
            if (low[v] != indices[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            if (component.Count > 1)
            {
                component.Sort(StringComparer.Ordinal);
                result.Add(component);
            }
        }

        foreach (var v in adjacency.Keys)
            if (!indices.ContainsKey(v)) Connect(v);
        return result.OrderBy(c => c[0], StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<IReadOnlyList<string>> Components(Func<FolderEdge, bool>? include = null) =>
        Components(Folders, Edges.Where(e => include?.Invoke(e) ?? true).Select(e => (e.From, e.To)));

    /// <summary>A shortest path from one folder to another over <paramref name="include"/>d edges
    /// (breadth first, neighbours in name order), or null.</summary>
    public IReadOnlyList<string>? ShortestPath(string from, string to, Func<FolderEdge, bool>? include = null)
    {
        var previous = new Dictionary<string, string> { [from] = from };
        var queue = new Queue<string>();
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var next in Edges.Where(e => e.From == v && (include?.Invoke(e) ?? true))
                                      .Select(e => e.To).OrderBy(t => t, StringComparer.Ordinal))
            {
                if (previous.ContainsKey(next)) continue;
                previous[next] = v;
                if (next == to)
                {
                    var path = new List<string> { to };
                    for (var at = to; at != from; at = previous[at]) path.Add(previous[at]);
                    path.Reverse();
                    return path;
                }
                queue.Enqueue(next);
            }
        }
        return null;
    }

    /// <summary>The cycles of a component: for each edge in it, the shortest cycle through that
    /// edge, rotated to start at its smallest folder, without repeats.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles(IReadOnlyList<string> component, Func<FolderEdge, bool>? include = null)
    {
        var members = component.ToHashSet();
        var seen = new HashSet<string>();
        var cycles = new List<IReadOnlyList<string>>();
        foreach (var e in Edges.Where(e => members.Contains(e.From) && members.Contains(e.To) && (include?.Invoke(e) ?? true))
                               .OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal))
        {
            var back = ShortestPath(e.To, e.From, include);
            if (back is null) continue;
            var cycle = new List<string> { e.From };
            cycle.AddRange(back.Take(back.Count - 1));
            int start = cycle.IndexOf(cycle.Min(StringComparer.Ordinal)!);
            var rotated = cycle.Skip(start).Concat(cycle.Take(start)).ToList();
            if (seen.Add(string.Join(" -> ", rotated))) cycles.Add(rotated);
        }
        return cycles;
    }

    /// <summary>A cycle as text, "A -> B -> A", each edge with up to <paramref name="evidence"/> references.</summary>
    public string DescribeCycle(IReadOnlyList<string> cycle, int evidence = 3)
    {
        var text = new StringBuilder();
        text.AppendLine("  cycle: " + string.Join(" -> ", cycle.Append(cycle[0])));
        for (int i = 0; i < cycle.Count; i++)
        {
            var edge = Edge(cycle[i], cycle[(i + 1) % cycle.Count])!;
            text.Append(DescribeEdge(edge, evidence, "    "));
        }
        return text.ToString();
    }

    public static string DescribeEdge(FolderEdge edge, int evidence = 3, string indent = "  ")
    {
        var text = new StringBuilder();
        text.AppendLine($"{indent}{edge.From} -> {edge.To} ({edge.References.Count} type pair{(edge.References.Count == 1 ? "" : "s")})");
        foreach (var r in edge.Evidence(evidence)) text.AppendLine($"{indent}    {r}");
        return text.ToString();
    }

    /// <summary>The whole graph: each folder with what it depends on, each edge with evidence.</summary>
    public string Render(int evidence = 3)
    {
        var text = new StringBuilder();
        text.AppendLine($"TicketLab folder dependencies ({LibraryName}: {TypeCount} types, {Edges.Count} edges between {Folders.Count} folders)");
        foreach (var folder in Folders)
        {
            var deps = DependenciesOf(folder).ToList();
            text.AppendLine($"{folder} -> {(deps.Count == 0 ? "(nothing)" : string.Join(", ", deps))}");
        }
        text.AppendLine();
        foreach (var edge in Edges.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal))
            text.Append(DescribeEdge(edge, evidence));
        if (Unattributed.Count > 0)
        {
            // Compiler and generator output (<Module>, <PrivateImplementationDetails>, collection
            // expression helpers, generated regexes): by outermost type name, with counts.
            var groups = Unattributed.GroupBy(n => n.Split('+')[0].Split("__")[0])
                                     .Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ({g.Count()})");
            text.AppendLine().AppendLine($"In no folder ({Unattributed.Count} types): {string.Join(", ", groups)}");
        }
        return text.ToString();
    }

    private static string LibraryName => Path.GetFileName(LibraryPath);
}
