using TicketLab.Cli;
using TicketLab.Devices;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Cli;

/// <summary>How --device cuda finds the libtorch of an installed PyTorch (no GPU needed: fake installs on disk).</summary>
public sealed class CudaDiscoveryTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A PyTorch package as pip installs it: torch/version.py and torch/lib/*.so (empty files stand for the libraries).</summary>
    private string FakeTorch(string name, string? cuda, string version = "2.11.0+cu130")
    {
        string torch = temp.Combine(name, "site-packages", "torch");
        Directory.CreateDirectory(Path.Combine(torch, "lib"));
        File.WriteAllText(Path.Combine(torch, "lib", "libtorch.so"), "");
        if (cuda is not null) File.WriteAllText(Path.Combine(torch, "lib", "libtorch_cuda.so"), "");
        File.WriteAllText(Path.Combine(torch, "version.py"),
            $"from typing import Optional\n__all__ = ['__version__']\n__version__ = '{version}'\ndebug = False\ncuda: Optional[str] = {(cuda is null ? "None" : $"'{cuda}'")}\ngit_version = 'abc'\n");
        return torch;
    }

    [Fact]
    public void The_flag_wins_then_the_variable_then_python3()
    {
        string flag = FakeTorch("a", "13.0"), variable = FakeTorch("b", "12.8", "2.10.0+cu128"), python = FakeTorch("c", "12.6", "2.9.0+cu126");
        var fromFlag = LibTorchLocator.Find(flag, variable, () => python);
        Assert.Equal((Path.Combine(flag, "lib"), "--libtorch", "2.11.0+cu130", "13.0"), (fromFlag.LibFolder, fromFlag.FoundBy, fromFlag.TorchVersion, fromFlag.CudaVersion));
        Assert.Equal("$TICKETLAB_LIBTORCH", LibTorchLocator.Find(null, variable, () => python).FoundBy);
        var fromPython = LibTorchLocator.Find(null, null, () => python);
        Assert.Equal(("python3", "12.6"), (fromPython.FoundBy, fromPython.CudaVersion));
        Assert.Equal($"libtorch 2.9.0+cu126 with CUDA 12.6 in {Path.Combine(python, "lib")} (found by python3)", fromPython.Describe);
        // The lib folder itself is accepted too.
        Assert.Equal(Path.Combine(flag, "lib"), LibTorchLocator.Find(Path.Combine(flag, "lib"), null, () => null).LibFolder);
    }

    [Fact]
    public void A_libtorch_download_tells_its_cuda_version_in_build_version()
    {
        string libtorch = temp.Combine("libtorch");
        Directory.CreateDirectory(Path.Combine(libtorch, "lib"));
        File.WriteAllText(Path.Combine(libtorch, "lib", "libtorch.so"), "");
        File.WriteAllText(Path.Combine(libtorch, "lib", "libtorch_cuda.so"), "");
        File.WriteAllText(Path.Combine(libtorch, "build-version"), "2.10.0+cu128\n");
        var install = LibTorchLocator.Find(libtorch, null, () => null);
        Assert.Equal(("2.10.0+cu128", "12.8"), (install.TorchVersion, install.CudaVersion));
    }

    [Theory]
    [InlineData("cpu-only", "has no CUDA (no libtorch_cuda.so there)")]
    [InlineData("missing", "no such folder")]
    [InlineData("empty", "holds no libtorch.so")]
    [InlineData("no-python-torch", "python3 has no torch package")]
    public void Without_a_cuda_libtorch_the_error_is_one_line_that_says_what_to_do(string setup, string expected)
    {
        string? flag = setup switch
        {
            "cpu-only" => FakeTorch("cpu", cuda: null, "1.13.1"),
            "missing" => temp.Combine("nowhere"),
            "empty" => Directory.CreateDirectory(temp.Combine("empty")).FullName,
            _ => null,
        };
        var error = Assert.Throws<LibTorchNotFoundException>(() => LibTorchLocator.Find(flag, null, () => null));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_command_line_refuses_cuda_without_a_cuda_libtorch_before_loading_anything()
    {
        var stderr = new StringWriter();
        int? code = CudaLauncher.RelaunchIfNeeded(["train", "--device", "cuda", "--libtorch", FakeTorch("cpu", cuda: null, "1.13.1")], stderr);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --device cuda: libtorch 1.13.1 without CUDA in ", stderr.ToString());
        Assert.Null(CudaLauncher.RelaunchIfNeeded(["train", "--device", "cpu"], stderr));
        Assert.Null(CudaLauncher.RelaunchIfNeeded(["train", "--device", "cuda", "--help"], stderr));
    }
}
