using TicketLab.Cli;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Studies;

[Collection(Experiments.RegistryCollection.Name)] // its messages list the registered kinds
public sealed class StudyFileTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private string Write(string toml)
    {
        string path = temp.Combine($"study-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    private StudyPlan Plan(string toml) => StudyPlan.Expand(Study.Load(Write(toml)), CliApp.Accepts);

    private const string Lottery = """
        name = "s"
        [flags]
        preset = "lenet_300_100"
        points = 5

        [sweep]
        lr = [0.1, 0.05]

        [[experiment]]
        command = "lottery"
        levels = 2
        replicates = 2
        branches = ["random_reinit", { name = "retrain", flags = { retrain-lr = 0.05 } }]
        instability = [0, 2]
        compare = true
        analyses = [{ name = "layer_density", flags = { magnitudes = true } }]
        """;

    [Fact]
    public void A_lottery_expands_into_sequential_levels_with_branches_and_analyses_after_their_level()
    {
        var plan = Plan(Lottery);
        // Per recipe and replicate: 3 levels, 2 branches on levels 1-2, instability at 0 and 2, compare on 1-2, layer_density on 0-2.
        Assert.Equal(2 * 2 * (3 + 4 + 2 + 2 + 3), plan.Units.Count);
        Assert.Equal(["analyze", "layer_density", "--preset", "lenet_300_100", "--lr", "0.1", "--magnitudes", "--replicate", "1", "--levels", "0"],
            plan.Unit("lr=0.1/lottery/replicate_1/level_0/layer_density").Args);
        var level2 = plan.Unit("lr=0.05/lottery/replicate_2/level_2");
        Assert.Equal(["lr=0.05/lottery/replicate_2/level_1"], level2.DependsOn);
        Assert.Equal(["lottery", "--preset", "lenet_300_100", "--lr", "0.05", "--replicate", "2", "--levels", "2"], level2.Args);
        Assert.Equal(["lr=0.1/lottery/replicate_1/level_0"], plan.Unit("lr=0.1/lottery/replicate_1/level_0/instability").DependsOn);
        // An analysis may read the level's branches, so it waits for them too.
        Assert.Equal(["lr=0.1/lottery/replicate_1/level_1", "lr=0.1/lottery/replicate_1/level_1/random_reinit", "lr=0.1/lottery/replicate_1/level_1/retrain"],
            plan.Unit("lr=0.1/lottery/replicate_1/level_1/compare").DependsOn);
        // Shared flags reach only the commands that take them: --points goes to instability and compare, not lottery.
        Assert.Contains("--points", plan.Unit("lr=0.1/lottery/replicate_1/level_2/instability").Args);
        Assert.Contains("--points", plan.Unit("lr=0.1/lottery/replicate_1/level_2/compare").Args);
        Assert.DoesNotContain("--points", level2.Args);
        var retrain = plan.Unit("lr=0.1/lottery/replicate_1/level_1/retrain");
        Assert.Equal(["branch", "retrain"], retrain.Args.Take(2));
        Assert.Contains("--retrain-lr", retrain.Args);
        // Every unit comes after the units it needs, so one pass in plan order can run them all.
        var seen = new HashSet<string>();
        foreach (var unit in plan.Units)
        {
            Assert.All(unit.DependsOn, d => Assert.Contains(d, seen));
            seen.Add(unit.Id);
        }
        Assert.Equal(plan.Units.Count, plan.Units.Select(u => u.Key).Distinct().Count());
        Assert.Equal(["lr=0.1", "lr=0.05"], plan.Recipes.Select(r => r.Label));
    }

    [Fact]
    public void Train_instability_and_sweep_experiments_have_one_unit_per_replicate_or_one_per_sweep()
    {
        var plan = Plan("""
            [flags]
            preset = "lenet_300_100"
            [[experiment]]
            command = "train"
            replicates = 3
            [[experiment]]
            command = "instability"
            replicates = 2
            flags = { start-step = "1ep" }
            [[experiment]]
            command = "rewind-sweep"
            replicates = 2
            flags = { steps = "0it,1ep" }
            """);
        Assert.Equal(["train/replicate_1", "train/replicate_2", "train/replicate_3", "instability/replicate_1", "instability/replicate_2", "rewind-sweep"],
            plan.Units.Select(u => u.Id));
        Assert.All(plan.Units, u => Assert.Empty(u.DependsOn));
        Assert.Equal(["rewind-sweep", "--preset", "lenet_300_100", "--steps", "0it,1ep", "--replicates", "2"], plan.Unit("rewind-sweep").Args);
        Assert.Equal(["instability", "--preset", "lenet_300_100", "--start-step", "1ep", "--replicate", "2"], plan.Unit("instability/replicate_2").Args);
    }

    [Fact]
    public void Analyses_over_the_rounds_expand_to_a_unit_per_level_each_after_the_levels_branches_and_its_own_level_before()
    {
        var plan = Plan("""
            name = "rounds"
            [flags]
            preset = "lenet_300_100"
            [[experiment]]
            command = "lottery"
            levels = 2
            branches = ["random_reinit"]
            analyses = ["round_distances", { name = "round_barriers", flags = { points = 5 } }, "pruning_thresholds", "weight_histograms"]
            """);
        Assert.Equal(["analyze", "round_distances", "--preset", "lenet_300_100", "--replicate", "1", "--levels", "0"], plan.Unit("lottery/replicate_1/level_0/round_distances").Args);
        Assert.Equal(["lottery/replicate_1/level_2", "lottery/replicate_1/level_2/random_reinit", "lottery/replicate_1/level_1/round_distances"],
            plan.Unit("lottery/replicate_1/level_2/round_distances").DependsOn);
        Assert.Equal(["lottery/replicate_1/level_1", "lottery/replicate_1/level_1/random_reinit"], plan.Unit("lottery/replicate_1/level_1/round_barriers").DependsOn);
        Assert.Contains("lottery/replicate_1/level_1/round_barriers", plan.Unit("lottery/replicate_1/level_2/round_barriers").DependsOn);
        Assert.Contains("--points", plan.Unit("lottery/replicate_1/level_2/round_barriers").Args);
        // Barriers and thresholds begin at level 1; a histogram is made of every level, and reads no other.
        Assert.DoesNotContain(plan.Units, u => u.Id is "lottery/replicate_1/level_0/round_barriers" or "lottery/replicate_1/level_0/pruning_thresholds");
        Assert.DoesNotContain("lottery/replicate_1/level_1/weight_histograms", plan.Unit("lottery/replicate_1/level_2/weight_histograms").DependsOn);
        Assert.Equal(3 + 2 + 3 + 2 + 2 + 3, plan.Units.Count);
    }

    [Theory]
    [InlineData("[[experiment]]\ncommand = \"prune\"", "experiment 1: command: 'prune' is not one of train, lottery, instability, rewind-sweep.")]
    [InlineData("name = \"x\"", "experiment: the study has no [[experiment]]")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nlevel = 3", "level: unknown key in experiment 1; known keys: command, replicates, levels")]
    [InlineData("[[experiment]]\ncommand = \"train\"\nlevels = 3", "experiment 1: levels: only applies to command = \"lottery\", not \"train\".")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nlevels = 2\ninstability = [3]", "experiment 1: instability: level 3 is past the last level (2).")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nreplicates = 0", "experiment 1: replicates: must be a whole number of at least 1, got 0.")]
    [InlineData("[flags]\n\"--lr\" = 0.1\n[[experiment]]\ncommand = \"train\"", "flags.--lr: write flags without the leading dashes")]
    [InlineData("[flags]\nroot = \"/x\"\n[[experiment]]\ncommand = \"train\"", "flags.root: is set when the study runs")]
    [InlineData("[flags]\nthreads = 2\n[[experiment]]\ncommand = \"train\"", "flags.threads: is the study's own top-level key (threads = 2, before any table)")]
    [InlineData("threads = 0\n[[experiment]]\ncommand = \"train\"", "threads: must be a whole number of at least 1, got 0.")]
    [InlineData("[sweep]\nlr = []\n[[experiment]]\ncommand = \"train\"", "sweep.lr: must be a non-empty list of values")]
    [InlineData("[flags]\nlearning-rate = 0.1\n[[experiment]]\ncommand = \"train\"", "flag 'learning-rate' is taken by none of the study's commands (train)")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nbranches = [\"random_reinit\", 3]", "experiment 1: branches: each entry is a name or a table")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nbranches = [\"random_reinnit\"]", "experiment 1: branches: unknown branch 'random_reinnit'; known: random_reinit, random_prune")]
    [InlineData("[[experiment]]\ncommand = \"lottery\"\nanalyses = [\"layer_densty\"]", "experiment 1: analyses: unknown analysis 'layer_densty'; known: layer_density")]
    public void Mistakes_in_a_study_file_are_one_line_naming_the_file_and_the_key(string toml, string expected)
    {
        string path = Write(toml);
        var error = Assert.Throws<StudyFileException>(() => StudyPlan.Expand(Study.Load(path), CliApp.Accepts));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_threads_of_every_unit_are_the_studys__one_unless_it_says_otherwise()
    {
        Assert.Equal(1, Study.Load(Write("[[experiment]]\ncommand = \"train\"")).Threads);
        var study = Study.Load(Write("threads = 2\n[[experiment]]\ncommand = \"train\""));
        Assert.Equal(2, study.Threads);
        Assert.Null(study.Slurm.CpusPerTask); // a Slurm job then gets the study's threads as its CPUs
    }

    [Fact]
    public void Invalid_toml_names_the_line()
    {
        string path = Write("name = \"x\"\n[[experiment]\ncommand = 1");
        var error = Assert.Throws<StudyFileException>(() => Study.Load(path));
        Assert.StartsWith($"{path}:2:", error.Message);
        Assert.Contains("not valid TOML", error.Message);
    }

    [Fact]
    public void The_examples_in_studies_expand_with_flags_every_command_accepts()
    {
        string folder = Path.Combine(RepositoryRoot(), "studies");
        var files = Directory.GetFiles(folder, "*.toml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var plan = StudyPlan.Expand(Study.Load(file), CliApp.Accepts);
            Assert.NotEmpty(plan.Units);
            // Each unit's command line parses: naming its experiment runs the command's own flag checks.
            foreach (var unit in plan.Units.DistinctBy(u => u.Command + u.Recipe + u.ExperimentIndex))
            {
                string? name = null;
                var stderr = new StringWriter();
                int code = CliApp.Run([.. unit.Args, "--root", temp.Combine("names")], CliEnvironment.ForTests(TextWriter.Null, stderr) with { NameOnly = n => name = n });
                Assert.True(code == 0, $"{file} {unit.Id}: {stderr}");
                Assert.NotNull(name);
            }
        }
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "TicketLab.slnx"))) folder = folder.Parent;
        return folder?.FullName ?? throw new DirectoryNotFoundException("TicketLab.slnx not found above the test binaries");
    }
}
