using System.Text.RegularExpressions;
using TicketLab.Reporting;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Reporting;

public sealed partial class ReportWriterTests
{
    [Fact]
    public void Write_CreatesIndexAndEveryFigureFile()
    {
        using var temp = new TempFolder();
        string index = ReportWriter.Write(ReportingSamples.Report(), temp.Path);

        Assert.Equal(temp.Combine("index.html"), index);
        Assert.True(File.Exists(index));
        foreach (string name in new[] { "accuracy", "loss" })
        {
            FigureRendererTests.AssertPng(temp.Combine("figures", name + ".png"));
            FigureRendererTests.AssertSvg(temp.Combine("figures", name + ".svg"));
            Assert.True(File.Exists(temp.Combine("figures", name + ".csv")));
        }
        Assert.Equal(6, Directory.GetFiles(temp.Combine("figures")).Length);
    }

    [Fact]
    public void Index_ReferencesOnlyExistingLocalFiles()
    {
        using var temp = new TempFolder();
        string index = ReportWriter.Write(ReportingSamples.Report(), temp.Path);
        string html = File.ReadAllText(index);

        var references = AttributeRegex().Matches(html).Select(m => (Attribute: m.Groups[1].Value, Value: m.Groups[2].Value)).ToList();
        Assert.Contains(references, r => r == ("src", "figures/accuracy.svg"));
        Assert.Contains(references, r => r == ("src", "figures/loss.svg"));
        Assert.Contains(references, r => r == ("href", "figures/accuracy.csv"));
        Assert.Contains(references, r => r == ("href", "figures/loss.csv"));
        foreach (var (attribute, value) in references)
        {
            if (attribute == "href" && value.StartsWith('#'))
            {
                Assert.Contains($"id=\"{value[1..]}\"", html);
                continue;
            }
            Assert.DoesNotContain(":", value);            // no scheme: nothing absolute, nothing from the network
            Assert.False(value.StartsWith('/'), value);
            Assert.True(File.Exists(Path.Combine(temp.Path, value)), $"{attribute}=\"{value}\" points to a missing file");
        }

        Assert.Equal(2, Regex.Matches(html, "<img ").Count);
        Assert.Matches("<img src=\"figures/accuracy.svg\" alt=\"Test accuracy at early stopping\"", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("url(", html);
        Assert.Single(Regex.Matches(html, "<script"));
        Assert.DoesNotContain("<script src", html);
    }

    [Fact]
    public void Index_HasTablesAndTextInOrder()
    {
        using var temp = new TempFolder();
        string html = File.ReadAllText(ReportWriter.Write(ReportingSamples.Report(), temp.Path));

        int hyper = html.IndexOf("<td>batch_size</td><td>60</td>", StringComparison.Ordinal);
        int text = html.IndexOf("Iterative magnitude pruning, 20% per round.", StringComparison.Ordinal);
        int table = html.IndexOf("<caption>Final accuracy</caption>", StringComparison.Ordinal);
        int figure1 = html.IndexOf("figures/accuracy.svg", StringComparison.Ordinal);
        int section2 = html.IndexOf("<h2>Training curves</h2>", StringComparison.Ordinal);
        int figure2 = html.IndexOf("figures/loss.svg", StringComparison.Ordinal);
        // The answers lead (text, tables, figures of each section); the hyperparameters follow them.
        Assert.True(text > 0 && text < table && table < figure1 && figure1 < section2 && section2 < figure2 && figure2 < hyper,
            $"order: {text} {table} {figure1} {section2} {figure2} {hyper}");
        Assert.Equal(2, Regex.Matches(html, "<p class=\"text\">").Count); // two paragraphs
    }

    [Fact]
    public void A_folded_table_shows_its_caption_and_row_count_and_wide_tables_scroll_in_the_page()
    {
        using var temp = new TempFolder();
        var units = new ReportTable("Units", ["unit", "command"], [["a/replicate_1", "ticketlab lottery --levels 0"], ["a/replicate_2", "ticketlab lottery --levels 1"]]) { Folded = true };
        var report = new Report("Folded", [], [new ReportSection("Progress", [units], [])]);
        string html = File.ReadAllText(ReportWriter.Write(report, temp.Path));
        Assert.Contains("<details><summary>Units (2 rows)</summary>", html);
        Assert.True(html.IndexOf("<details>", StringComparison.Ordinal) < html.IndexOf("<td>a/replicate_1</td>", StringComparison.Ordinal)
            && html.IndexOf("<td>a/replicate_2</td>", StringComparison.Ordinal) < html.IndexOf("</details>", StringComparison.Ordinal));
        Assert.Contains("<div class=\"table-wrap\"><table>", html);
    }

    [Fact]
    public void Text_IsHtmlEscaped()
    {
        using var temp = new TempFolder();
        const string evil = "<script>alert('x')</script> & \"quotes\"";
        var report = new Report(evil,
            [new ReportTable(evil, [evil], [[evil]])],
            [new ReportSection(evil, [], [ReportingSamples.Loss() with { Title = evil }], Text: evil)]);
        string html = File.ReadAllText(ReportWriter.Write(report, temp.Path));

        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("\"quotes\"", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;", html);
        Assert.Single(Regex.Matches(html, "<script>")); // only the page's own image check
    }

    [Fact]
    public void DuplicateFigureNames_AcrossSections_AreRejectedBeforeWriting()
    {
        using var temp = new TempFolder();
        var report = ReportingSamples.Report("dup", ReportingSamples.Accuracy("same"), ReportingSamples.Loss("Same"));
        var error = Assert.Throws<ArgumentException>(() => ReportWriter.Write(report, temp.Path));
        Assert.Contains("Duplicate figure name", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void InvalidFigureName_IsRejectedBeforeWriting()
    {
        using var temp = new TempFolder();
        var report = ReportingSamples.Report("bad", ReportingSamples.Accuracy("ok"), ReportingSamples.Loss("../../etc/passwd"));
        Assert.Throws<ArgumentException>(() => ReportWriter.Write(report, temp.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void RaggedTableRows_AreRejected()
    {
        using var temp = new TempFolder();
        var report = new Report("r", [new ReportTable("t", ["a", "b"], [["1"]])], []);
        Assert.Throws<ArgumentException>(() => ReportWriter.Write(report, temp.Path));
    }

    [GeneratedRegex("\\b(src|href)\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex AttributeRegex();
}
