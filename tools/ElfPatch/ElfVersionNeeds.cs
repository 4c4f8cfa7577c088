using System.Buffers.Binary;
using System.Text;

namespace TicketLab.Build;

/// <summary>
/// Edits the version-needed table (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF file.
/// TorchSharp's native shim asks for <c>GLIBCXX_3.4.32</c> for one symbol that no relocation
/// uses; marking that requirement weak (<c>VER_FLG_WEAK</c>) lets the loader accept an older
/// libstdc++ while changing nothing where a newer one is present.
/// </summary>
public static class ElfVersionNeeds
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>One version requirement: the library that must provide it and its flags.</summary>
    public sealed record Requirement(string Library, string Version, ushort Flags, int FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every version requirement of the ELF image.</summary>
    public static IReadOnlyList<Requirement> Read(ReadOnlySpan<byte> elf)
    {
        var (verneed, dynstr) = FindSections(elf);
        var result = new List<Requirement>();
        if (verneed is null) return result;
        var (offset, size, count) = verneed.Value;
        long entry = offset;
        for (int i = 0; i < count; i++)
        {
            CheckRange(elf, entry, 16, "Verneed entry");
            ushort auxCount = U16(elf, entry + 2);
            string library = ReadString(elf, dynstr, U32(elf, entry + 4));
            long aux = entry + U32(elf, entry + 8);
            for (int j = 0; j < auxCount; j++)
            {
                CheckRange(elf, aux, 16, "Vernaux entry");
                ushort flags = U16(elf, aux + 4);
                string version = ReadString(elf, dynstr, U32(elf, aux + 8));
                result.Add(new Requirement(library, version, flags, checked((int)(aux + 4))));
                uint nextAux = U32(elf, aux + 12);
                if (nextAux == 0) break;
                aux += nextAux;
            }
            uint next = U32(elf, entry + 12);
            if (next == 0) break;
            entry += next;
            if (entry >= offset + size) throw new InvalidDataException("Verneed chain runs past its section.");
        }
        return result;
    }

    /// <summary>
    /// Marks the named version requirement weak in place. Returns how many entries changed
    /// (0 when they were already weak or absent), so running it twice is harmless.
    /// </summary>
    public static int MarkWeak(Span<byte> elf, string version)
    {
        int changed = 0;
        foreach (var requirement in Read(elf))
        {
            if (requirement.Version != version || requirement.IsWeak) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(elf[requirement.FlagsOffset..], (ushort)(requirement.Flags | VerFlagWeak));
            changed++;
        }
        return changed;
    }

    /// <summary>
    /// Patches a file on disk. The new content is written to a temporary file and renamed over
    /// the original, so a hard link into a package cache is never modified.
    /// </summary>
    public static int MarkWeakInFile(string path, string version)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int changed = MarkWeak(bytes, version);
        if (changed == 0) return 0;
        string temporary = path + ".weak-tmp";
        File.WriteAllBytes(temporary, bytes);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
        File.Move(temporary, path, overwrite: true);
        return changed;
    }

    private static ((long Offset, long Size, uint Count)? Verneed, (long Offset, long Size) Dynstr) FindSections(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file (bad magic number).");
        if (elf[4] != 2) throw new InvalidDataException("Only 64-bit ELF files are supported.");
        if (elf[5] != 1) throw new InvalidDataException("Only little-endian ELF files are supported.");
        long sectionTable = (long)U64(elf, 0x28);
        ushort sectionEntrySize = U16(elf, 0x3a);
        ushort sectionCount = U16(elf, 0x3c);
        if (sectionEntrySize < 64) throw new InvalidDataException("Unexpected ELF section header size.");
        CheckRange(elf, sectionTable, (long)sectionEntrySize * sectionCount, "section header table");

        long Header(int index) => sectionTable + (long)index * sectionEntrySize;
        for (int i = 0; i < sectionCount; i++)
        {
            long h = Header(i);
            if (U32(elf, h + 4) != ShtGnuVerneed) continue;
            long offset = (long)U64(elf, h + 0x18);
            long size = (long)U64(elf, h + 0x20);
            uint link = U32(elf, h + 0x28);
            uint count = U32(elf, h + 0x2c); // sh_info: number of Verneed entries
            CheckRange(elf, offset, size, ".gnu.version_r");
            if (link >= sectionCount) throw new InvalidDataException(".gnu.version_r links to a missing string table.");
            long s = Header((int)link);
            var dynstr = ((long)U64(elf, s + 0x18), (long)U64(elf, s + 0x20));
            CheckRange(elf, dynstr.Item1, dynstr.Item2, "dynamic string table");
            return ((offset, size, count), dynstr);
        }
        return (null, (0, 0));
    }

    private static string ReadString(ReadOnlySpan<byte> elf, (long Offset, long Size) table, uint index)
    {
        if (index >= table.Size) throw new InvalidDataException("String index outside the dynamic string table.");
        var rest = elf.Slice((int)(table.Offset + index), (int)(table.Size - index));
        int end = rest.IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException("Unterminated string in the dynamic string table.");
        return Encoding.ASCII.GetString(rest[..end]);
    }

    private static void CheckRange(ReadOnlySpan<byte> elf, long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset + length > elf.Length)
            throw new InvalidDataException($"ELF {what} lies outside the file (truncated?).");
    }

    private static ushort U16(ReadOnlySpan<byte> b, long at) => BinaryPrimitives.ReadUInt16LittleEndian(b[(int)at..]);
    private static uint U32(ReadOnlySpan<byte> b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b[(int)at..]);
    private static ulong U64(ReadOnlySpan<byte> b, long at) => BinaryPrimitives.ReadUInt64LittleEndian(b[(int)at..]);
}
