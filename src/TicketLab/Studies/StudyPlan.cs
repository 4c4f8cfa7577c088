using System.Globalization;
using System.Text.Json.Nodes;
using TicketLab.Experiments;
using TicketLab.Foundations;

namespace TicketLab.Studies;

/// <summary>
/// One unit of work: a <c>ticketlab</c> command line that runs one piece of a study (a lottery
/// level of a replicate, a branch on a level, an analysis), and the units it waits for.
/// </summary>
public sealed record StudyUnit(string Id, string Command, IReadOnlyList<string> Args, IReadOnlyList<string> DependsOn)
{
    /// <summary>The recipe the unit belongs to, by what differs from the other recipes ("lr=0.05"); empty with one recipe.</summary>
    public string Recipe { get; init; } = "";
    public int ExperimentIndex { get; init; }
    public int Replicate { get; init; }
    public int? Level { get; init; }

    /// <summary>
    /// Names the unit's record in the store: the command line, without the options that do not
    /// change results (root, threads). The same unit in two study files is the same work.
    /// </summary>
    public string Key => ExperimentName.Hash(new JsonArray(Args.Select(a => (JsonNode)a).ToArray()));
}

/// <summary>A recipe of the study: the shared flags with one combination of the swept values.</summary>
public sealed record Recipe(string Label, FlagSet Flags);

/// <summary>The units of a study and their dependencies, in an order in which each unit follows what it needs.</summary>
public sealed class StudyPlan
{
    private StudyPlan(Study study, IReadOnlyList<Recipe> recipes, IReadOnlyList<StudyUnit> units)
    {
        Study = study;
        Recipes = recipes;
        Units = units;
        ById = units.ToDictionary(u => u.Id);
        neededBy = units.SelectMany(u => u.DependsOn.Select(d => (Dependency: d, Unit: u.Id))).ToLookup(p => p.Dependency, p => p.Unit);
    }

    private readonly ILookup<string, string> neededBy;

    public Study Study { get; }
    public IReadOnlyList<Recipe> Recipes { get; }
    public IReadOnlyList<StudyUnit> Units { get; }
    public IReadOnlyDictionary<string, StudyUnit> ById { get; }

    /// <summary>Every unit that needs <paramref name="id"/>, directly or further down.</summary>
    public IReadOnlySet<string> Dependents(string id)
    {
        var found = new HashSet<string>();
        var queue = new Queue<string>([id]);
        while (queue.TryDequeue(out var next))
            foreach (var unit in neededBy[next])
                if (found.Add(unit)) queue.Enqueue(unit);
        return found;
    }

    public StudyUnit Unit(string id) => ById.TryGetValue(id, out var unit) ? unit
        : throw new StudyFileException($"{Study.SourcePath}: the study has no unit '{id}' (see `ticketlab study status {Study.SourcePath}`).");

    /// <param name="accepts">
    /// Whether a command (<c>branch random_reinit</c>) takes a flag (<c>points</c>). Shared flags go to
    /// the commands that take them (an interpolation flag reaches instability and compare, not
    /// lottery); a flag no unit's command takes is an error, so a typo never goes unnoticed.
    /// Null: every flag goes to every command.
    /// </param>
    public static StudyPlan Expand(Study study, Func<string, string, bool>? accepts = null)
    {
        var recipes = RecipesOf(study);
        var units = new List<StudyUnit>();
        foreach (var recipe in recipes)
            foreach (var experiment in study.Experiments)
                units.AddRange(Expand(recipe, experiment, study.Experiments.Count(e => e.Command == experiment.Command) > 1, accepts ?? ((_, _) => true)));
        if (accepts is not null)
        {
            var flags = study.Flags.Values.Select(v => v.Key).Concat(study.Sweep.Select(s => s.Key))
                .Concat(study.Experiments.SelectMany(e => e.Flags.Values.Select(v => v.Key)));
            foreach (var flag in flags.Distinct())
                if (!units.Any(u => accepts(u.Command, flag)))
                    throw new StudyFileException($"{study.SourcePath}: flag '{flag}' is taken by none of the study's commands ({string.Join(", ", units.Select(u => u.Command).Distinct())}); check its spelling (`ticketlab COMMAND --help`).");
        }
        var duplicate = units.GroupBy(u => u.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new StudyFileException($"{study.SourcePath}: two units are both named {duplicate.Key}.");
        return new StudyPlan(study, recipes, units);
    }

    /// <summary>Every combination of the swept values, labelled by those values (the only differences between recipes).</summary>
    private static IReadOnlyList<Recipe> RecipesOf(Study study)
    {
        IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> combinations = [[]];
        foreach (var (flag, values) in study.Sweep)
            combinations = combinations.SelectMany(c => values.Select(v => (IReadOnlyList<KeyValuePair<string, string>>)[.. c, KeyValuePair.Create(flag, v)]));
        return combinations.Select(c => new Recipe(
            string.Join(",", c.Select(p => $"{p.Key}={p.Value}")),
            study.Flags.With(new FlagSet(c)))).ToArray();
    }

    /// <summary>
    /// The units of one experiment of one recipe, as its kind plans them (<see cref="ExperimentKind.Expand"/>):
    /// ids under <c>[recipe/]command[#index]</c>, each with the recipe's flags its command takes.
    /// </summary>
    private static IEnumerable<StudyUnit> Expand(Recipe recipe, ExperimentSpec experiment, bool numbered, Func<string, string, bool> accepts)
    {
        string prefix = (recipe.Label.Length > 0 ? recipe.Label + "/" : "") + experiment.Command + (numbered ? $"#{experiment.Index}" : "");
        string Id(string id) => id.Length == 0 ? prefix : $"{prefix}/{id}";
        var flags = recipe.Flags.With(experiment.Flags);
        foreach (var unit in experiment.Kind.Expand(experiment.Entry))
            yield return new StudyUnit(Id(unit.Id), unit.Command,
                [.. unit.Command.Split(' '), .. new FlagSet(flags.Values.Where(f => accepts(unit.Command, f.Key)).ToArray()).ToArgs(), .. unit.Args],
                unit.After.Select(Id).ToArray())
            {
                Recipe = recipe.Label, ExperimentIndex = experiment.Index, Replicate = unit.Replicate, Level = unit.Level,
            };
    }
}
