using System.Diagnostics;
using System.Text.RegularExpressions;

namespace TicketLab.Devices;

/// <summary>A libtorch found on this machine: its <c>lib</c> folder, how it was found, and what it was built with.</summary>
public sealed record LibTorchInstall(string LibFolder, string FoundBy, string? TorchVersion, string? CudaVersion)
{
    public bool HasCuda => CudaVersion is not null && File.Exists(Path.Combine(LibFolder, "libtorch_cuda.so"));

    public string Describe => $"libtorch {TorchVersion ?? "(version unknown)"}"
        + (CudaVersion is null ? " without CUDA" : $" with CUDA {CudaVersion}") + $" in {LibFolder} (found by {FoundBy})";
}

/// <summary>No usable CUDA libtorch: the message says what was looked at and what to do.</summary>
public sealed class LibTorchNotFoundException(string message) : Exception(message);

/// <summary>
/// Finds the libtorch of an installed PyTorch for <c>--device cuda</c>: the folder given with
/// <c>--libtorch</c>, else <c>$TICKETLAB_LIBTORCH</c>, else the <c>torch</c> package the local
/// <c>python3</c> imports. Researchers with a GPU have PyTorch; TorchSharp's native shim loads its
/// libtorch (TicketLab's own package carries the CPU build only).
/// </summary>
public static class LibTorchLocator
{
    public const string Variable = "TICKETLAB_LIBTORCH";
    public const string Flag = "--libtorch";

    /// <param name="askPython">Where python3's torch package is (null: none); defaults to running python3.</param>
    public static LibTorchInstall Find(string? flag, string? variable, Func<string?>? askPython = null)
    {
        LibTorchInstall install;
        if (!string.IsNullOrEmpty(flag)) install = FromFolder(flag, Flag);
        else if (!string.IsNullOrEmpty(variable)) install = FromFolder(variable, $"${Variable}");
        else
        {
            string? package = (askPython ?? AskPython)();
            if (package is null)
                throw new LibTorchNotFoundException($"--device cuda: no libtorch with CUDA was found: {Flag} and ${Variable} are unset and python3 has no torch package. "
                    + $"Install PyTorch with CUDA (pip install torch), or give {Flag} DIR (a PyTorch torch/lib folder or a libtorch download).");
            install = FromFolder(package, "python3");
        }
        if (!install.HasCuda)
            throw new LibTorchNotFoundException($"--device cuda: {install.Describe} has no CUDA (no libtorch_cuda.so there). "
                + $"Install a CUDA build of PyTorch, or point {Flag} at one.");
        return install;
    }

    /// <summary>A libtorch from a folder: a PyTorch <c>torch</c> package, its <c>lib</c> folder, or a libtorch download (<c>libtorch/</c> or <c>libtorch/lib</c>).</summary>
    public static LibTorchInstall FromFolder(string path, string foundBy)
    {
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new LibTorchNotFoundException($"{foundBy} {path}: no such folder. Give a PyTorch torch/lib folder or a libtorch download.");
        string lib = File.Exists(Path.Combine(full, "libtorch.so")) ? full : Path.Combine(full, "lib");
        if (!File.Exists(Path.Combine(lib, "libtorch.so")))
            throw new LibTorchNotFoundException($"{foundBy} {path}: holds no libtorch.so (looked in {full} and {lib}). Give a PyTorch torch/lib folder or a libtorch download.");
        string root = Path.GetDirectoryName(lib)!;
        var (torch, cuda) = Versions(root);
        return new LibTorchInstall(lib, foundBy, torch, cuda);
    }

    /// <summary>
    /// The versions a PyTorch package records in <c>torch/version.py</c> (<c>__version__</c>,
    /// <c>cuda</c>), or a libtorch download in <c>build-version</c> (<c>2.10.0+cu128</c>).
    /// </summary>
    public static (string? Torch, string? Cuda) Versions(string root)
    {
        string versionPy = Path.Combine(root, "version.py");
        if (File.Exists(versionPy))
        {
            string text = File.ReadAllText(versionPy);
            string? torch = Regex.Match(text, @"^__version__\s*(?::[^=]*)?=\s*['""]([^'""]+)['""]", RegexOptions.Multiline) is { Success: true } t ? t.Groups[1].Value : null;
            string? cuda = Regex.Match(text, @"^cuda\s*(?::[^=]*)?=\s*['""]([^'""]+)['""]", RegexOptions.Multiline) is { Success: true } c ? c.Groups[1].Value : null;
            return (torch, cuda);
        }
        string buildVersion = Path.Combine(root, "build-version");
        if (File.Exists(buildVersion))
        {
            string version = File.ReadAllText(buildVersion).Trim();
            var cu = Regex.Match(version, @"\+cu(\d+)(\d)$");
            return (version, cu.Success ? $"{cu.Groups[1].Value}.{cu.Groups[2].Value}" : null);
        }
        return (null, null);
    }

    /// <summary>The folder of the torch package that python3 (else python) on the PATH would import, found without importing it; null if neither has one.</summary>
    public static string? AskPython() => AskPython("python3") ?? AskPython("python");

    public static string? AskPython(string python)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')");
        try
        {
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no python3
        }
    }
}
