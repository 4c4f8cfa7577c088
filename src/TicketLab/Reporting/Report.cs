namespace TicketLab.Reporting;

/// <summary>A table of already formatted cells; every row has one cell per header column.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>A part of a report: optional text (blank lines separate paragraphs), then tables, then figures.</summary>
public sealed record ReportSection(string Title, IReadOnlyList<ReportTable> Tables, IReadOnlyList<Figure> Figures, string? Text = null);

/// <summary>A whole offline HTML report: the hyperparameter tables first, then the sections.</summary>
public sealed record Report(string Title, IReadOnlyList<ReportTable> Hyperparameters, IReadOnlyList<ReportSection> Sections)
{
    /// <summary>Every result behind the report as long-format CSV text (see <c>ExperimentResults</c>), written as <c>results.csv</c> beside index.html and linked from it.</summary>
    public string? ResultsCsv { get; init; }
}
