using System.Diagnostics;
using System.Text.Json.Nodes;

namespace TicketLab.Tests.Support;

/// <summary>
/// Runs the scripts in tests/python with Debian's python3-torch (<c>/usr/bin/python3</c>), which
/// scripts/install-deps.sh installs; a machine without it fails these tests with that advice.
/// </summary>
public static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "TicketLab.slnx"))) folder = folder.Parent;
        return folder?.FullName ?? throw new DirectoryNotFoundException("TicketLab.slnx not found above the test binaries");
    }

    public static string Script(string name) => Path.Combine(RepositoryRoot(), "tests", "python", name);

    /// <summary>Runs a script of tests/python; returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(string script, params string[] args)
    {
        Assert.True(File.Exists(Interpreter), $"{Interpreter} is missing: run scripts/install-deps.sh (python3 and python3-torch).");
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script(script));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string err = stderr.Result;
        Assert.False(err.Contains("No module named 'torch'"), "python3-torch is missing: run scripts/install-deps.sh.");
        return (process.ExitCode, stdout, err);
    }

    /// <summary>Runs a script that prints one JSON object; fails the test with its output when it exits non-zero.</summary>
    public static JsonObject RunJson(string script, params string[] args)
    {
        var (code, stdout, stderr) = Run(script, args);
        Assert.True(code == 0, $"{script} exited {code}: {stdout}\n{stderr}");
        return JsonNode.Parse(stdout.Trim().Split('\n').Last())!.AsObject();
    }
}
