using System.Buffers.Binary;
using System.Text;
using TicketLab.Build;

namespace TicketLab.Tests.Build;

public sealed class ElfPatchTests
{
    /// <summary>
    /// A minimal ELF64 file: header, .dynstr, a .gnu.version_r with one library needing two
    /// versions, and the section table. Enough for the patcher, which reads sections only.
    /// </summary>
    private static byte[] MinimalElf(string library, params string[] versions)
    {
        var dynstr = new MemoryStream();
        dynstr.WriteByte(0);
        int Add(string s)
        {
            int at = (int)dynstr.Length;
            dynstr.Write(Encoding.ASCII.GetBytes(s));
            dynstr.WriteByte(0);
            return at;
        }
        int libraryName = Add(library);
        var versionNames = versions.Select(Add).ToArray();
        byte[] strings = dynstr.ToArray();

        var verneed = new byte[16 + 16 * versions.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(verneed.AsSpan(0), 1);                    // vn_version
        BinaryPrimitives.WriteUInt16LittleEndian(verneed.AsSpan(2), (ushort)versions.Length); // vn_cnt
        BinaryPrimitives.WriteUInt32LittleEndian(verneed.AsSpan(4), (uint)libraryName);    // vn_file
        BinaryPrimitives.WriteUInt32LittleEndian(verneed.AsSpan(8), 16);                   // vn_aux
        for (int i = 0; i < versions.Length; i++)
        {
            var aux = verneed.AsSpan(16 + 16 * i);
            BinaryPrimitives.WriteUInt32LittleEndian(aux, 0x1234u + (uint)i);             // vna_hash
            BinaryPrimitives.WriteUInt16LittleEndian(aux[6..], (ushort)(2 + i));          // vna_other
            BinaryPrimitives.WriteUInt32LittleEndian(aux[8..], (uint)versionNames[i]);     // vna_name
            BinaryPrimitives.WriteUInt32LittleEndian(aux[12..], i + 1 < versions.Length ? 16u : 0u);
        }

        int dynstrOffset = 64, verneedOffset = dynstrOffset + strings.Length;
        int sectionTable = (verneedOffset + verneed.Length + 7) / 8 * 8;
        var elf = new byte[sectionTable + 3 * 64];
        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
        elf[4] = 2; elf[5] = 1; elf[6] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x28), (ulong)sectionTable);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3a), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3c), 3);
        strings.CopyTo(elf, dynstrOffset);
        verneed.CopyTo(elf, verneedOffset);
        void Section(int index, uint type, int offset, int size, uint link, uint info)
        {
            var h = elf.AsSpan(sectionTable + 64 * index);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(h[0x18..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(h[0x20..], (ulong)size);
            BinaryPrimitives.WriteUInt32LittleEndian(h[0x28..], link);
            BinaryPrimitives.WriteUInt32LittleEndian(h[0x2c..], info);
        }
        Section(1, 3, dynstrOffset, strings.Length, 0, 0);                // SHT_STRTAB
        Section(2, 0x6ffffffe, verneedOffset, verneed.Length, 1, 1);      // SHT_GNU_verneed
        return elf;
    }

    [Fact]
    public void Marks_only_the_named_version_weak_and_changes_nothing_else()
    {
        var elf = MinimalElf("libstdc++.so.6", "GLIBCXX_3.4.30", "GLIBCXX_3.4.32", "CXXABI_1.3");
        var before = (byte[])elf.Clone();
        Assert.Equal(1, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));

        var requirements = ElfVersionNeeds.Read(elf);
        Assert.Equal(["GLIBCXX_3.4.30", "GLIBCXX_3.4.32", "CXXABI_1.3"], requirements.Select(r => r.Version));
        Assert.All(requirements, r => Assert.Equal("libstdc++.so.6", r.Library));
        Assert.Equal([false, true, false], requirements.Select(r => r.IsWeak));
        int changedBytes = elf.Zip(before).Count(p => p.First != p.Second);
        Assert.Equal(1, changedBytes);
    }

    [Fact]
    public void Patching_twice_is_harmless()
    {
        var elf = MinimalElf("libstdc++.so.6", "GLIBCXX_3.4.32");
        Assert.Equal(1, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));
        var once = (byte[])elf.Clone();
        Assert.Equal(0, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));
        Assert.Equal(once, elf);
    }

    [Fact]
    public void Absent_version_changes_nothing()
    {
        var elf = MinimalElf("libstdc++.so.6", "GLIBCXX_3.4.30");
        var before = (byte[])elf.Clone();
        Assert.Equal(0, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));
        Assert.Equal(before, elf);
    }

    [Fact]
    public void File_patch_replaces_the_file_and_leaves_hard_links_alone()
    {
        using var temp = new Support.TempFolder();
        string original = temp.Combine("cache.so"), copy = temp.Combine("output.so");
        File.WriteAllBytes(original, MinimalElf("libstdc++.so.6", "GLIBCXX_3.4.32"));
        File.CreateSymbolicLink(copy, original); // stands in for any alias of the cache file
        File.Delete(copy);
        File.Copy(original, copy);
        Assert.Equal(1, ElfVersionNeeds.MarkWeakInFile(copy, "GLIBCXX_3.4.32"));
        Assert.False(ElfVersionNeeds.Read(File.ReadAllBytes(original)).Single().IsWeak);
        Assert.True(ElfVersionNeeds.Read(File.ReadAllBytes(copy)).Single().IsWeak);
    }

    [Fact]
    public void Rejects_files_that_are_not_elf()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(new byte[100], "X"));
        Assert.Contains("magic", error.Message);
        var truncated = MinimalElf("libstdc++.so.6", "GLIBCXX_3.4.32")[..80];
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(truncated, "X"));
    }

    [Fact]
    public void The_build_output_copy_of_the_torch_shim_is_patched_and_the_package_cache_is_not()
    {
        string output = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        var patched = ElfVersionNeeds.Read(File.ReadAllBytes(output)).Single(r => r.Version == "GLIBCXX_3.4.32");
        Assert.True(patched.IsWeak);

        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cached = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(cached), $"expected the package cache copy at {cached}");
        Assert.False(ElfVersionNeeds.Read(File.ReadAllBytes(cached)).Single(r => r.Version == "GLIBCXX_3.4.32").IsWeak);
    }
}
