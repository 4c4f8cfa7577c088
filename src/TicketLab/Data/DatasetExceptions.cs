namespace TicketLab.Data;

/// <summary>
/// A dataset file exists but its contents are wrong: bad magic number, truncated data, image and
/// label counts that disagree, labels out of range, a checksum that does not match. The message
/// always starts with the file path (or download address) and says what was wrong.
/// </summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
    }

    public DatasetFormatException(string path, string problem, Exception inner)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file (or address) at fault.</summary>
    public string Path { get; }
}

/// <summary>
/// No folder searched holds a dataset's files. The message's first line, the one the CLI prints,
/// names every folder searched (<see cref="SearchedFolders"/>) and what to pass (<c>--data-dir</c>,
/// <c>TICKETLAB_DATA</c>, <c>--download</c>, a system package); later lines, if any, say what each
/// folder lacks.
/// </summary>
public sealed class DatasetNotFoundException : Exception
{
    public DatasetNotFoundException(string datasetName, IReadOnlyList<string> searchedFolders, string message)
        : base(message)
    {
        DatasetName = datasetName;
        SearchedFolders = searchedFolders;
    }

    public string DatasetName { get; }

    public IReadOnlyList<string> SearchedFolders { get; }
}

/// <summary>The requested training subset is larger than the training split: a usage error, not a data fault.</summary>
public sealed class TrainSubsetTooLargeException(string message) : ArgumentException(message);
