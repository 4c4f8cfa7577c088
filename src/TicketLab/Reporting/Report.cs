namespace TicketLab.Reporting;

/// <summary>A table of already formatted cells; every row has one cell per header column.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>Shown folded (its caption and row count, opened on a click): long bookkeeping, such as a study's units.</summary>
    public bool Folded { get; init; }
}

/// <summary>A part of a report: optional text (blank lines separate paragraphs), then tables, then figures.</summary>
public sealed record ReportSection(string Title, IReadOnlyList<ReportTable> Tables, IReadOnlyList<Figure> Figures, string? Text = null);

/// <summary>A whole offline HTML report: the sections (the answers) first, then the hyperparameter tables.</summary>
public sealed record Report(string Title, IReadOnlyList<ReportTable> Hyperparameters, IReadOnlyList<ReportSection> Sections)
{
    /// <summary>Every result behind the report as long-format CSV text (see <c>ExperimentResults</c>), written as <c>results.csv</c> beside index.html and linked from it.</summary>
    public string? ResultsCsv { get; init; }
}
