namespace TicketLab.Foundations;

/// <summary>
/// Results named under an earlier naming rule keep their content: the first time the current name is
/// looked for, a file still under its old name is renamed to it (the content does not depend on the name).
/// </summary>
public static class LegacyName
{
    /// <summary>Renames <paramref name="legacyPath"/> to <paramref name="path"/> when only the legacy one exists.</summary>
    public static void Adopt(string path, string legacyPath)
    {
        if (path == legacyPath || File.Exists(path) || !File.Exists(legacyPath)) return;
        try { File.Move(legacyPath, path); }
        catch (IOException) when (File.Exists(path)) { } // another process adopted it first
    }
}
