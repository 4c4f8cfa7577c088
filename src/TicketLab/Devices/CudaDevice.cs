using TorchSharp;
using static TorchSharp.torch;

namespace TicketLab.Devices;

/// <summary>No CUDA for libtorch here; the message says why, in words that follow "cuda was asked for, but".</summary>
public sealed class CudaUnavailableException(string reason) : Exception(reason);

/// <summary>
/// The CUDA device of the libtorch on the library path (<see cref="LibTorchLocator"/> finds one for
/// the CLI), with TF32 matrix products as asked: PyTorch's recommended speed/accuracy trade-off on
/// Ampere and later GPUs. The CLI and the benchmarks open it the same way.
/// </summary>
public static class CudaDevice
{
    public static Device Open(bool tf32)
    {
        try
        {
            InitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
        {
            throw new CudaUnavailableException($"libtorch could not initialise CUDA here ({e.Message.Split('.')[0].Trim()})");
        }
        if (!cuda.is_available()) throw new CudaUnavailableException("no CUDA device is available to libtorch on this machine");
        backends.cuda.matmul.allow_tf32 = tf32;
        backends.cudnn.allow_tf32 = tf32;
        return CUDA;
    }
}
