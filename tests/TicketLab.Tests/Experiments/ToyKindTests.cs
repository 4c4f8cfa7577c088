using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TicketLab.Cli;
using TicketLab.Experiments;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Reporting;
using TicketLab.Store;
using TicketLab.Studies;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Experiments;

/// <summary>Tests that change the registries run one at a time, apart from those whose messages list the registered names.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryCollection
{
    public const string Name = "registries";
}

// ---- A toy kind and a toy analysis, each as a plug-in writes it: one class (its record and JSON metadata beside it) and one registration ----

public sealed record ToyHparams : IHparams
{
    [Hparam("What each replicate's value is multiplied by.")]
    public int Multiplier { get; init; } = 2;

    public void Validate()
    {
        if (Multiplier < 1) throw new HparamException("--multiplier", $"must be at least 1, got {Multiplier}.");
    }
}

/// <summary><c>toy_&lt;hash&gt;/replicate_N/value.json</c>: the replicate number times the multiplier, with the recipe's name.</summary>
public sealed class ToyKind : ExperimentKind<ToyHparams>
{
    public override string Name => "toy";
    public override string Title => "Toy experiment";
    public override string? CommandDescription => "A toy kind registered by a test.";

    protected override string EntryName(ExperimentInputs inputs, ToyHparams hparams) =>
        ExperimentName.Of(Name, new JsonObject { ["training_run"] = inputs.Training.RunName, ["toy"] = HparamJson.NonDefault(hparams) });

    protected override ExperimentOutcome Run(ExperimentRequest request, ToyHparams hparams)
    {
        string entry = EntryName(request.Inputs, hparams);
        foreach (int replicate in request.Inputs.Replicates)
            AtomicFile.WriteJson(Path.Combine(request.Context.Store.ReplicateFolder(entry, replicate), "value.json"),
                new JsonObject { ["replicate"] = replicate, ["value"] = replicate * hparams.Multiplier });
        return new ExperimentOutcome(entry) { Notes = [$"toy values written to {request.Context.Store.ExperimentFolder(entry)}"] };
    }

    private static IEnumerable<(int Replicate, double Value)> Values(string experiment) =>
        ExperimentStore.Replicates(experiment).Select(r => (r.Number, (double)JsonNode.Parse(File.ReadAllText(Path.Combine(r.Folder, "value.json")))!["value"]!));

    protected override ListEntry ListReplicate(string experiment, int? replicate, RunFolder folder) =>
        new(experiment, Name, replicate, ExperimentState.Finished, "finished", folder.Path);

    public override Report Report(ExperimentStore store, ExperimentRef experiment, ReportOptions options) =>
        new($"Toy experiment {experiment.Name}", [], [new ReportSection("Toy values", [new ReportTable("Toy values", ["replicate", "value"],
            Values(experiment.Path).Select(v => (IReadOnlyList<string>)[v.Replicate.ToString(CultureInfo.InvariantCulture), v.Value.ToString(CultureInfo.InvariantCulture)]).ToArray())], [])]);

    public override JsonObject? Hyperparameters(ExperimentRef experiment) => null;

    public override IEnumerable<ResultRow> Results(ExperimentRef experiment) =>
        Values(experiment.Path).Select(v => new ResultRow(experiment.Name, Name, v.Replicate, "toy", "value", v.Value));
}

public sealed record ToyLevelValue(double Value) : IStoredResult<ToyLevelValue>
{
    public JsonObject ToJson() => new() { ["value"] = Value };
    public static ToyLevelValue FromJson(JsonNode json) => new((double)json["value"]!);
}

/// <summary><c>toy_level</c>: the level times the multiplier, stored per level.</summary>
public sealed class ToyLevelAnalysis : LevelAnalysis<ToyHparams, ToyLevelValue>
{
    public override string Name => "toy_level";
    public override string Description => "A toy level analysis registered by a test.";
    public override int FirstLevel => 1;

    protected override ToyLevelValue Analyze(LevelAnalysisJob job, ToyHparams hparams) => new(job.Level * hparams.Multiplier);

    protected override IReadOnlyList<ReportTable> Tabulate(IReadOnlyList<LevelResult<ToyLevelValue>> results, ToyHparams hparams) =>
        [new ReportTable("Toy level values", ["replicate", "level", "value"], results.Select(r => (IReadOnlyList<string>)[
            r.Replicate.ToString(CultureInfo.InvariantCulture), r.Level.ToString(CultureInfo.InvariantCulture), r.Result.Value.ToString(CultureInfo.InvariantCulture)]).ToArray())];
}

/// <summary>The toy record's JSON metadata: reflection-based JSON is off, so a plug-in registers its own.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(ToyHparams))]
internal sealed partial class ToyJsonContext : JsonSerializerContext
{
#pragma warning disable CA2255 // the test assembly's own registration
    [ModuleInitializer]
    internal static void Register() => HparamJson.AddResolver(Default);
#pragma warning restore CA2255
}

/// <summary>
/// Adding a kind or a level analysis is one class and one registration: its command, its flags (from its
/// record), its place in study files, <c>list</c>, <c>report</c> and results.csv all follow from the registry.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class ToyKindTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly string store;

    public ToyKindTests()
    {
        store = temp.Combine("store");
        ExperimentRegistry.Register(new ToyKind());
        LevelAnalysisRegistry.Register(new ToyLevelAnalysis());
    }

    public void Dispose()
    {
        ExperimentRegistry.Unregister("toy");
        LevelAnalysisRegistry.Unregister("toy_level");
        temp.Dispose();
    }

    private Study StudyFile(string body)
    {
        string path = temp.Combine("toy.toml");
        File.WriteAllText(path, body);
        return Study.Load(path);
    }

    [Fact]
    public void A_registered_kind_gets_its_command_its_study_expansion_its_list_rows_its_report_and_results()
    {
        var (helpCode, help, _) = TestCli.Run("toy", "--help");
        Assert.Equal(0, helpCode);
        Assert.Contains("A toy kind registered by a test.", help);
        Assert.Contains("--multiplier", help);
        Assert.Contains("--replicates", help);

        Assert.Equal(2, TestCli.Run("toy", "--multiplier", "0", "--root", store).Code); // its record validates its flags
        var (code, output, error) = TestCli.Run("toy", "--multiplier", "3", "--replicates", "2", "--root", store, "--quiet");
        Assert.True(code == 0, error);
        Assert.Contains("toy values written to", output);
        string experiment = Directory.GetDirectories(store, "toy_*").Single();
        var results = File.ReadAllLines(Path.Combine(experiment, "results.csv"));
        Assert.Equal(string.Join(",", ExperimentResults.Header), results[0]);
        Assert.Equal(["toy", "toy"], results[1..].Select(l => l.Split(',')[1]));
        Assert.Contains(",6", File.ReadAllText(Path.Combine(experiment, "results.csv")));

        var list = JsonNode.Parse(TestCli.Run("list", "--root", store, "--json").Out)!;
        Assert.Equal(2, (list as JsonArray ?? list["rows"]!.AsArray()).Count(r => (string?)r!["kind"] == "toy"));
        var (reportCode, _, reportError) = TestCli.Run("report", Path.GetFileName(experiment), "--root", store, "--out", temp.Combine("report"));
        Assert.True(reportCode == 0, reportError);
        Assert.Contains("Toy values", File.ReadAllText(temp.Combine("report", "index.html")));

        var plan = StudyPlan.Expand(StudyFile("[[experiment]]\ncommand = \"toy\"\nreplicates = 2\nflags = { multiplier = 3 }\n"), CliApp.Accepts);
        Assert.Equal(["toy/replicate_1", "toy/replicate_2"], plan.Units.Select(u => u.Id));
        Assert.Equal(["toy", "--multiplier", "3", "--replicate", "2"], plan.Unit("toy/replicate_2").Args);
        var error2 = Assert.Throws<StudyFileException>(() => StudyFile("[[experiment]]\ncommand = \"toy\"\nlevels = 2\n"));
        Assert.Contains("levels: only applies to command = \"lottery\", not \"toy\"", error2.Message);
    }

    [Fact]
    public void A_registered_level_analysis_gets_its_command_and_its_units_in_a_lottery_study()
    {
        string data = LearnableData.WriteMnist(temp.Combine("data"));
        string[] recipe = ["--preset", "lenet_300_100", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32",
            "--training-steps", "1ep", "--data-dir", data, "--root", store, "--threads", "1", "--quiet"];
        Assert.Equal(0, TestCli.Run(["lottery", .. recipe, "--levels", "1"]).Code);
        var (code, output, error) = TestCli.Run(["analyze", "toy_level", .. recipe, "--levels", "1", "--multiplier", "5", "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(5, (double)JsonNode.Parse(output)!["results"]![0]!["result"]!["value"]!);
        Assert.Equal(2, TestCli.Run(["analyze", "toy_level", .. recipe, "--levels", "0"]).Code); // its first level is 1

        var plan = StudyPlan.Expand(StudyFile("[[experiment]]\ncommand = \"lottery\"\nlevels = 2\nanalyses = [\"toy_level\"]\n"), CliApp.Accepts);
        Assert.Equal(["lottery/replicate_1/level_1/toy_level", "lottery/replicate_1/level_2/toy_level"], plan.Units.Where(u => u.Id.EndsWith("toy_level")).Select(u => u.Id));
        Assert.Equal(["lottery/replicate_1/level_2"], plan.Unit("lottery/replicate_1/level_2/toy_level").DependsOn);
    }
}
