using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace TicketLab.Reporting;

/// <summary>
/// Writes a <see cref="Report"/> as one self-contained page, <c>outFolder/index.html</c>, with its figures in
/// <c>outFolder/figures/</c> (SVG shown, PNG and CSV linked). The page uses relative paths only, inline CSS,
/// and one tiny inline script that records in <c>body[data-images-loaded]</c> how many images loaded
/// ("loaded/total"), so that a headless browser can check the page; a Content-Security-Policy forbids
/// everything else (no network, no other scripts).
/// </summary>
public static class ReportWriter
{
    public const string FiguresFolder = "figures";
    public const string IndexFile = "index.html";
    public const string ResultsFile = "results.csv";

    private const string Script =
        "window.addEventListener('load',function(){var im=document.images,n=0;" +
        "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)n++;}" +
        "document.body.dataset.imagesLoaded=n+'/'+im.length;});";

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:1900px;padding:0 1rem;color:#222;line-height:1.45}
        h1{font-size:1.8rem;border-bottom:2px solid #ddd;padding-bottom:.3rem}
        h2{font-size:1.4rem;margin-top:2.2rem;border-bottom:1px solid #eee;padding-bottom:.2rem}
        nav ol{padding-left:1.4rem}
        table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}
        caption{text-align:left;font-weight:600;padding:.3rem 0}
        th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
        th{background:#f3f3f3}
        tbody tr:nth-child(even){background:#fafafa}
        .text{white-space:pre-wrap}
        p{max-width:80ch}
        figure{margin:1.2rem 1.2rem 1.2rem 0;display:inline-block;max-width:100%;vertical-align:top}
        figure img{max-width:100%;height:auto;border:1px solid #eee}
        figcaption{font-size:.9rem;color:#555}
        .table-wrap{overflow-x:auto;max-width:100%}
        td{max-width:36rem;overflow-wrap:anywhere}
        details{margin:1rem 0}
        summary{cursor:pointer;font-weight:600}
        """;

    /// <summary>Renders every figure and writes the page; returns the path of <c>index.html</c>.</summary>
    public static string Write(Report report, string outFolder)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(outFolder);
        Validate(report);

        string figuresFolder = Path.Combine(outFolder, FiguresFolder);
        Directory.CreateDirectory(figuresFolder);
        var sizes = new Dictionary<string, (int Width, int Height)>();
        foreach (var figure in report.Sections.SelectMany(s => s.Figures))
        {
            var files = FigureRenderer.Write(figure, figuresFolder);
            sizes[figure.Name] = (files.Width, files.Height);
        }
        if (report.ResultsCsv is { } results)
            File.WriteAllText(Path.Combine(outFolder, ResultsFile), results, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

        string index = Path.Combine(outFolder, IndexFile);
        File.WriteAllText(index, RenderHtml(report, sizes), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return index;
    }

    /// <summary>Checks every figure (see <see cref="FigureRenderer.Validate"/>), that figure names are unique
    /// (ignoring case, for case-insensitive file systems) and that table rows match their headers.</summary>
    public static void Validate(Report report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var table in report.Hyperparameters) ValidateTable(table, "hyperparameters");
        foreach (var section in report.Sections)
        {
            foreach (var table in section.Tables) ValidateTable(table, $"section '{section.Title}'");
            foreach (var figure in section.Figures)
            {
                FigureRenderer.Validate(figure);
                if (names.TryGetValue(figure.Name, out string? other))
                    throw new ArgumentException(
                        $"Duplicate figure name '{figure.Name}' (section '{section.Title}'; already used in section '{other}').", nameof(report));
                names[figure.Name] = section.Title;
            }
        }
    }

    private static void ValidateTable(ReportTable table, string where)
    {
        for (int r = 0; r < table.Rows.Count; r++)
            if (table.Rows[r].Count != table.Header.Count)
                throw new ArgumentException(
                    $"Table '{table.Title}' in {where}: row {r} has {table.Rows[r].Count} cells but the header has {table.Header.Count}.", "report");
    }

    /// <summary>The HTML of <c>index.html</c> (figures are expected under <c>figures/</c>, of the given layout sizes, else of the default one).</summary>
    public static string RenderHtml(Report report, IReadOnlyDictionary<string, (int Width, int Height)>? sizes = null)
    {
        var html = new StringBuilder();
        string csp = "default-src 'none'; img-src 'self' file:; style-src " + Hash(Style) + "; script-src " + Hash(Script) +
                     "; base-uri 'none'; form-action 'none'";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"").Append(E(csp)).Append("\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(E(report.Title)).Append("</title>\n");
        html.Append("<style>").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>").Append(E(report.Title)).Append("</h1>\n");
        if (report.ResultsCsv is not null)
            html.Append("<p>Every result, one number a row: <a href=\"").Append(ResultsFile).Append("\">").Append(ResultsFile)
                .Append("</a> (fractions, not percent; columns in docs/experiments.md).</p>\n");

        if (report.Sections.Count > 1)
        {
            html.Append("<nav><ol>\n");
            for (int i = 0; i < report.Sections.Count; i++)
                html.Append("<li><a href=\"#").Append(SectionId(i)).Append("\">").Append(E(report.Sections[i].Title)).Append("</a></li>\n");
            html.Append("</ol></nav>\n");
        }

        for (int i = 0; i < report.Sections.Count; i++)
        {
            var section = report.Sections[i];
            html.Append("<section id=\"").Append(SectionId(i)).Append("\">\n<h2>").Append(E(section.Title)).Append("</h2>\n");
            if (!string.IsNullOrWhiteSpace(section.Text))
                foreach (string paragraph in Paragraphs(section.Text))
                    html.Append("<p class=\"text\">").Append(E(paragraph)).Append("</p>\n");
            foreach (var table in section.Tables) AppendTable(html, table);
            foreach (var figure in section.Figures) AppendFigure(html, figure, sizes?.GetValueOrDefault(figure.Name) is { Width: > 0 } size ? size : (FigureRenderer.Width, FigureRenderer.Height));
            html.Append("</section>\n");
        }

        // The answers lead; the recipe behind them follows.
        if (report.Hyperparameters.Count > 0)
        {
            html.Append("<section id=\"hyperparameters\">\n<h2>Hyperparameters</h2>\n");
            foreach (var table in report.Hyperparameters) AppendTable(html, table);
            html.Append("</section>\n");
        }

        html.Append("<script>").Append(Script).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendTable(StringBuilder html, ReportTable table)
    {
        if (table.Folded)
            html.Append("<details><summary>").Append(E(table.Title)).Append(" (").Append(table.Rows.Count.ToString(CultureInfo.InvariantCulture)).Append(" rows)</summary>\n");
        // Wide tables scroll inside the page's width instead of running off a laptop's screen.
        html.Append("<div class=\"table-wrap\"><table>\n");
        if (!string.IsNullOrEmpty(table.Title)) html.Append("<caption>").Append(E(table.Title)).Append("</caption>\n");
        html.Append("<thead><tr>");
        foreach (string h in table.Header) html.Append("<th>").Append(E(h)).Append("</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            html.Append("<tr>");
            foreach (string cell in row) html.Append("<td>").Append(E(cell)).Append("</td>");
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table></div>\n");
        if (table.Folded) html.Append("</details>\n");
    }

    private static void AppendFigure(StringBuilder html, Figure figure, (int Width, int Height) size)
    {
        string path = FiguresFolder + "/" + figure.Name; // names are validated: no escaping or URL encoding needed
        string alt = string.IsNullOrWhiteSpace(figure.Title) ? figure.Name : figure.Title;
        html.Append("<figure id=\"figure-").Append(figure.Name).Append("\">\n");
        html.Append("<img src=\"").Append(path).Append(".svg\" alt=\"").Append(E(alt)).Append("\" width=\"")
            .Append(size.Width.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"")
            .Append(size.Height.ToString(CultureInfo.InvariantCulture)).Append("\">\n");
        html.Append("<figcaption>").Append(E(alt)).Append(" &middot; <a href=\"").Append(path).Append(".csv\">data (CSV)</a>")
            .Append(" &middot; <a href=\"").Append(path).Append(".png\">PNG</a></figcaption>\n");
        html.Append("</figure>\n");
    }

    private static IEnumerable<string> Paragraphs(string text) =>
        text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string SectionId(int index) => "section-" + (index + 1).ToString(CultureInfo.InvariantCulture);

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Hash(string inline) =>
        "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline))) + "'";
}
