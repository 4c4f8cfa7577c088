using System.Text.Json.Nodes;
using TicketLab.Cli.Commands;
using TicketLab.Foundations;
using TicketLab.Hyperparameters;
using TicketLab.Interop;
using TicketLab.Models;
using TicketLab.Pruning;
using TicketLab.Tests.Support;
using TicketLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Tests.Interop;

/// <summary>
/// <c>ticketlab export</c> checked with PyTorch (Debian's python3-torch): torch.load + load_state_dict(strict=True)
/// on models with OpenLTH's structure (tests/python/openlth_models.py), the same predictions as TicketLab's.
/// </summary>
public sealed class ExportTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>TicketLab's logits for <paramref name="inputs"/>, written with them (and the labels) for check_export.py.</summary>
    private string Reference(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor? labels = null)
    {
        model.eval();
        using var _ = no_grad();
        using var logits = model.forward(inputs);
        string path = temp.Combine($"reference-{Guid.NewGuid():N}.safetensors");
        var tensors = new List<(string, Tensor)> { ("inputs", inputs), ("logits", logits) };
        if (labels is not null) tensors.Add(("labels", labels));
        TensorFile.Save(path, tensors);
        return path;
    }

    private static void AssertSamePredictions(JsonObject check, int examples)
    {
        Assert.True((bool)check["ok"]!, check.ToJsonString());
        Assert.Equal(examples, (int)check["examples"]!);
        Assert.True((bool)check["argmax_equal"]!, check.ToJsonString());
        Assert.True((double)check["max_abs_logit_diff"]! < 1e-4 * Math.Max(1, (double)check["max_abs_logit"]!), check.ToJsonString());
    }

    [Fact]
    public void A_lottery_level_exports_for_PyTorch_trained_and_at_its_rewind_point_with_OpenLths_mask()
    {
        string data = LearnableData.WriteMnist(temp.Combine("data"));
        string store = temp.Combine("store");
        string[] recipe = ["--preset", "lenet_300_100", "--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32",
            "--training-steps", "2ep", "--data-dir", data, "--root", store, "--threads", "1", "--quiet"];
        var (trained, _, trainError) = TestCli.Run(["lottery", .. recipe, "--levels", "1"]);
        Assert.True(trained == 0, trainError);
        string run = Path.GetFileName(Directory.GetDirectories(store, "lottery_*").Single());

        // Refused with a usage error that says what to give: a lottery run needs its level, and the step must have been saved.
        var (noLevel, _, noLevelError) = TestCli.Run("export", run, "--root", store);
        Assert.Equal(CommandErrors.UsageError, noLevel);
        Assert.Contains("levels 0, 1", noLevelError);
        var (badStep, _, badStepError) = TestCli.Run("export", run[..12], "--level", "1", "--step", "ep7_it0", "--root", store);
        Assert.Equal(CommandErrors.UsageError, badStep);
        Assert.Contains("saved: ep0_it0, final", badStepError);

        string final = temp.Combine("final"), rewound = temp.Combine("rewound");
        var (code, output, error) = TestCli.Run("export", run, "--level", "1", "--root", store, "--out", final);
        Assert.True(code == 0, error);
        Assert.Contains("mnist_lenet_32_16", output);
        Assert.True(File.Exists(Path.Combine(final, "model_ep2_it0.pth")) && File.Exists(Path.Combine(final, "mask.pth")), output);
        Assert.Equal(0, TestCli.Run("export", Path.Combine(store, run, "replicate_1", "level_1", "main"), "--step", "0it", "--out", rewound).Code);
        Assert.True(File.Exists(Path.Combine(rewound, "model_ep0_it0.pth")));

        var (_, test) = new DataSource(data).Get("mnist", null, CPU);
        var layout = new TicketLab.Lottery.LotteryLayout(Path.Combine(store, run, "replicate_1"));
        using var mask = Mask.Load(layout.MaskPath(1));
        foreach (var (folder, weights) in new[] { (final, layout.Main(1).FinalModelPath), (rewound, layout.Main(1).ModelPath(new Step(0, 8))) })
        {
            using var model = ModelRegistry.Create(new ModelHparams { ModelName = "lenet_32_16" }, InputSpec.Of(test), 1);
            ModelState.Load(model, weights);
            var check = Python.RunJson("check_export.py", folder, "--reference", Reference(model, test.Images, test.Labels));
            AssertSamePredictions(check, (int)test.Count);
            Assert.Equal((double)check["accuracy_ticketlab"]!, (double)check["accuracy_pytorch"]!);
            Assert.Equal(mask.Density, (double)check["mask_density"]!, 9);
        }
        // The trained ticket's accuracy in PyTorch is the one TicketLab recorded.
        var summary = TrainingSummary.Read(layout.Main(1))!;
        var finalCheck = Python.RunJson("check_export.py", final, "--idx-test", Path.Combine(data, "mnist"));
        Assert.Equal(summary.FinalTestAccuracy, (double)finalCheck["test_accuracy_pytorch"]!, 9);
    }

    /// <summary>A network with trained BN statistics and a random mask, exported through the library.</summary>
    private (string Folder, string Reference) ExportRandom(string modelName, int trainSteps)
    {
        random.manual_seed(3);
        using var model = ModelRegistry.Create(new ModelHparams { ModelName = modelName }, new InputSpec(3, 32, 32, 10), 1);
        using (no_grad())
        {
            model.train();
            for (int i = 0; i < trainSteps; i++) model.forward(randn(8, 3, 32, 32).mul(2).add(0.5)).Dispose(); // BN running statistics move away from 0 and 1
        }
        var parameters = model.NamedParameterMap();
        using var mask = new Mask(model.PrunableParameterNames.Select(n => KeyValuePair.Create(n, rand_like(parameters[n]).gt(0.3).to_type(ScalarType.Float32))));
        mask.ApplyTo(model);
        var state = ModelState.Snapshot(model);
        string folder = temp.Combine(modelName);
        try
        {
            OpenLthExport.Write(folder, modelName, "cifar10", "ep0_it0", state, mask, new JsonObject());
            Assert.Equal(trainSteps, state.Keys.Where(k => k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(k => state[k].item<long>()).Distinct().Single());
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
        using var inputs = randn(16, 3, 32, 32);
        return (folder, Reference(model, inputs));
    }

    [Fact]
    public void A_dense_export_into_a_folder_holding_a_ticket_export__leaves_no_old_mask()
    {
        string data = LearnableData.WriteMnist(temp.Combine("data"));
        string store = temp.Combine("store");
        string[] recipe = ["--dataset-name", "mnist", "--model-name", "lenet_32_16", "--batch-size", "32",
            "--training-steps", "1ep", "--data-dir", data, "--root", store, "--threads", "1", "--quiet"];
        Assert.Equal(0, TestCli.Run(["lottery", .. recipe, "--levels", "1"]).Code);
        Assert.Equal(0, TestCli.Run(["train", .. recipe]).Code);
        string folder = temp.Combine("export");
        string lottery = Path.GetFileName(Directory.GetDirectories(store, "lottery_*").Single());
        Assert.Equal(0, TestCli.Run("export", lottery, "--level", "1", "--root", store, "--out", folder).Code);
        Assert.True(File.Exists(Path.Combine(folder, "mask.pth")));

        string dense = Path.GetFileName(Directory.GetDirectories(store, "train_*").Single());
        var (code, _, error) = TestCli.Run("export", dense, "--root", store, "--out", folder);

        Assert.True(code == 0, error);
        Assert.False(File.Exists(Path.Combine(folder, "mask.pth")), "a stale mask would be read as the dense network's");
        Assert.False(File.Exists(Path.Combine(folder, "mask.safetensors")));
    }

    [Fact]
    public void A_ResNet_loads_into_OpenLths_structure_with_batch_norm_statistics()
    {
        var (folder, reference) = ExportRandom("resnet_8_4", 3);
        var check = Python.RunJson("check_export.py", folder, "--reference", reference);
        AssertSamePredictions(check, 16);
        Assert.Equal("cifar_resnet_8_4", (string)check["model"]!);
    }

    [Fact]
    public void A_Vgg_loads_into_OpenLths_nested_conv_modules()
    {
        var (folder, reference) = ExportRandom("vgg_11", 2);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "export.json")))!;
        Assert.Equal("layers.2.conv.weight", (string)manifest["renamed"]!["layers.4.weight"]!);
        var check = Python.RunJson("check_export.py", folder, "--reference", reference);
        AssertSamePredictions(check, 16);
    }
}
