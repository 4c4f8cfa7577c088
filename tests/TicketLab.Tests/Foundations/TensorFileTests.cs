using System.Diagnostics;
using TicketLab.Foundations;
using TicketLab.Tests.Support;
using static TorchSharp.torch;

namespace TicketLab.Tests.Foundations;

public sealed class TensorFileTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["fc.weight"] = arange(12, ScalarType.Float32).reshape(3, 4).div(7),
        ["fc.bias"] = tensor(new[] { 1.5, -2.25 }),
        ["bn.num_batches_tracked"] = tensor(7L),
        ["empty"] = zeros(0, 3),
    };

    [Fact]
    public void Tensors_round_trip_bit_for_bit()
    {
        string path = temp.Combine("t.bin");
        TensorFile.Save(path, Sample().Select(p => (p.Key, p.Value)));
        var back = TensorFile.Load(path);
        foreach (var (name, value) in Sample())
        {
            Assert.Equal(value.dtype, back[name].dtype);
            Assert.Equal(value.shape, back[name].shape);
            Assert.True(value.eq(back[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Python_reads_the_file_as_safetensors_with_json_and_struct_alone()
    {
        if (!File.Exists("/usr/bin/python3")) return; // scripts/install-deps.sh installs it for CI
        string path = temp.Combine("t.bin");
        TensorFile.Save(path, Sample().Select(p => (p.Key, p.Value)));
        const string script = """
            import json, struct, sys
            data = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', data[:8])[0]
            header = json.loads(data[8:8 + n])
            body = data[8 + n:]
            w = header['fc.weight']; b, e = w['data_offsets']
            values = struct.unpack('<12f', body[b:e])
            print(w['dtype'], w['shape'], round(values[11], 6), header['fc.bias']['dtype'], header['bn.num_batches_tracked']['shape'], header['__metadata__']['writer'])
            """;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", script, path }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, process.StandardError.ReadToEnd());
        Assert.Equal($"F32 [3, 4] {Math.Round(11 / 7.0, 6).ToString(System.Globalization.CultureInfo.InvariantCulture)} F64 [] TicketLab", output);
    }

    [Fact]
    public void Files_of_the_first_layout_are_still_read()
    {
        string path = temp.Combine("old.bin");
        using (var writer = new BinaryWriter(File.Create(path)))
        {
            writer.Write("TLTENSORS1");
            writer.Write(1);
            writer.Write("w");
            writer.Write((int)ScalarType.Float32);
            writer.Write(1);
            writer.Write(2L);
            writer.Write(8L);
            writer.Write(1.5f);
            writer.Write(-3f);
        }
        var back = TensorFile.Load(path);
        Assert.Equal(new[] { 1.5f, -3f }, back["w"].data<float>().ToArray());
    }

    [Fact]
    public void An_edited_header_field_fails_the_checksum()
    {
        string path = temp.Combine("t.bin");
        TensorFile.Save(path, Sample().Select(p => (p.Key, p.Value)));
        var bytes = File.ReadAllBytes(path);
        // Rename a tensor in the JSON header (same length, so the layout stays valid).
        string text = System.Text.Encoding.Latin1.GetString(bytes).Replace("\"fc.bias\"", "\"fc.bIas\"");
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text));
        var error = Assert.Throws<InvalidDataException>(() => TensorFile.Load(path));
        Assert.Contains("checksum mismatch", error.Message);
        Assert.Contains(path, error.Message);
    }
}
