// Build step: marks one ELF version requirement weak in the given files.
// Usage: ElfPatch <version> <file>...
using TicketLab.Build;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ElfPatch <version-name> <elf-file>...");
    return 2;
}
foreach (string file in args.Skip(1))
{
    try
    {
        int changed = ElfVersionNeeds.MarkWeakInFile(file, args[0]);
        Console.WriteLine(changed > 0
            ? $"ElfPatch: marked {args[0]} weak in {file}"
            : $"ElfPatch: {file} already accepts a libstdc++ without {args[0]}");
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"ElfPatch: {file}: {e.Message}");
        return 1;
    }
}
return 0;
