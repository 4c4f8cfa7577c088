using System.Diagnostics;
using SkiaSharp;
using TicketLab.Reporting;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

/// <summary>
/// Opens the written report from disk in headless Chromium (CI installs it: <c>apt-get install chromium</c>)
/// and checks that it renders and that every figure image loads.
/// </summary>
public sealed class HtmlReportBrowserTests
{
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Report_RendersInHeadlessChromium()
    {
        using var temp = new TempFolder();
        string index = ReportWriter.Write(ReportingSamples.Report(), temp.Combine("report"));
        string shot = temp.Combine("shot.png");

        var run = RunChromium(temp, $"--screenshot={shot}", "--window-size=1200,2000", "--virtual-time-budget=5000", new Uri(index).AbsoluteUri);

        Assert.True(File.Exists(shot), $"Chromium wrote no screenshot.\n{run}");
        Assert.True(new FileInfo(shot).Length > 20 * 1024, $"Screenshot is only {new FileInfo(shot).Length} bytes.\n{run}");
        using var bitmap = SKBitmap.Decode(shot);
        Assert.NotNull(bitmap);
        Assert.Equal((1200, 2000), (bitmap.Width, bitmap.Height));
        // Non-trivial: plenty of non-white pixels (text, tables, plots) and many colours.
        int inked = 0;
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 200 || c.Green < 200 || c.Blue < 200) inked++;
                colours.Add((uint)c);
            }
        Assert.True(inked > 5_000, $"Only {inked} sampled pixels are not near white.");
        Assert.True(colours.Count > 50, $"Only {colours.Count} distinct colours in the screenshot.");
    }

    [Fact]
    public void Report_LoadsEveryImageFromDisk()
    {
        using var temp = new TempFolder();
        var report = ReportingSamples.Report();
        int figures = report.Sections.Sum(s => s.Figures.Count);
        Assert.Equal(2, figures);
        string index = ReportWriter.Write(report, temp.Combine("report"));

        var run = RunChromium(temp, "--virtual-time-budget=5000", "--dump-dom", new Uri(index).AbsoluteUri);

        Assert.Contains("<h1>LeNet on MNIST</h1>", run.Stdout);
        Assert.True(run.Stdout.Contains($"data-images-loaded=\"{figures}/{figures}\"", StringComparison.Ordinal),
            $"Expected data-images-loaded=\"{figures}/{figures}\" in the DOM (the page's inline script counts loaded images).\n{run}");
    }

    internal sealed record BrowserRun(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() =>
            $"chromium exit code {ExitCode}\nstdout (tail): {Tail(Stdout)}\nstderr (tail): {Tail(Stderr)}";

        private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];
    }

    internal static BrowserRun RunChromium(TempFolder temp, params string[] arguments)
    {
        string chromium = FindChromium();
        string profile = temp.Combine("chromium-profile-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(profile);

        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--hide-scrollbars", $"--user-data-dir={profile}",
                 })
            start.ArgumentList.Add(a);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        start.Environment["HOME"] = profile; // keep caches and crash reports out of the real home

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {chromium}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (!process.WaitForExit(BrowserTimeout))
                Assert.Fail($"{chromium} did not finish within {BrowserTimeout.TotalSeconds} s.");
            process.WaitForExit(); // drain the redirected streams
        }
        finally
        {
            if (!process.HasExited)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit(5_000);
            }
        }
        var run = new BrowserRun(process.ExitCode, stdout.Result, stderr.Result);
        Assert.True(run.ExitCode == 0, $"Chromium failed.\n{run}");
        return run;
    }

    private static string FindChromium()
    {
        var candidates = new List<string> { "/usr/bin/chromium" };
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(Path.Combine(dir, "chromium"));
            candidates.Add(Path.Combine(dir, "chromium-browser"));
        }
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new InvalidOperationException(
                   "Chromium is needed for the HTML report browser test but was not found at /usr/bin/chromium or on PATH. " +
                   "Install it with `apt-get install chromium` (CI installs it).");
    }
}
