namespace TicketLab.Reporting;

/// <summary>Rules for <see cref="Figure.Name"/>, which becomes a file name.</summary>
public static class FigureNames
{
    public const int MaxLength = 100;

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>Throws <see cref="ArgumentException"/> unless the name is 1-100 ASCII letters, digits, '_' or '-'.</summary>
    public static void Validate(string? name, string paramName = "figure")
    {
        if (!IsValid(name))
            throw new ArgumentException(
                $"Invalid figure name '{name}': use 1 to {MaxLength} ASCII letters, digits, '_' or '-' (it becomes a file name).", paramName);
    }
}
