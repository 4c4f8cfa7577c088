using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TicketLab.Foundations;

/// <summary>
/// Keeps glibc from handing large freed blocks back to the kernel after every training step.
/// By default glibc serves blocks over its mmap threshold with fresh mappings and unmaps them on
/// free, and it trims the heap top above 128 KiB. A conv-net step allocates and frees tensors of
/// megabytes, so every step pays again for page faults and zeroing. Issue 13 measured ResNet-20
/// 3.3 times slower with 2.7 million minor faults in 60 steps. Raising the mmap threshold to
/// 32 MiB (the most glibc accepts) and the trim threshold to 2 GiB keeps those blocks in the heap
/// for reuse. (Turning mmap off altogether, M_MMAP_MAX = 0, made evaluation at batch 1,000
/// another 1.15 times faster, but the heap then grew by about 30 MiB per interpolation point.)
/// The price of keeping blocks is fragmentation, which <see cref="ReturnFreeMemory"/> bounds
/// (docs/performance.md); a fixed 1 MiB mmap threshold instead stays near 0.5 GiB but trains 1.8 times slower.
/// This runs when the TicketLab assembly loads, so the CLI, the tests and library users all get
/// it; a user's own MALLOC_*_ or GLIBC_TUNABLES settings win.
/// </summary>
public static class NativeAllocator
{
    private const int MTrimThreshold = -1;
    private const int MMmapThreshold = -3;
    public const int MmapThresholdBytes = 32 << 20;
    public const int TrimThresholdBytes = int.MaxValue;

    /// <summary>Environment variables through which a user tunes glibc's allocator; when any is set, TicketLab leaves it alone.</summary>
    public static IReadOnlyList<string> UserSettingVariables { get; } =
        ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"];

    /// <summary>Whether glibc accepted both settings (false off glibc, or when the user set their own).</summary>
    public static bool Configured { get; private set; }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "The allocator must be set before any tensor is allocated, for every host of the library.")]
    internal static void Configure()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (UserSettingVariables.Any(variable => Environment.GetEnvironmentVariable(variable) is not null)) return;
        try
        {
            Configured = mallopt(MTrimThreshold, TrimThresholdBytes) == 1 & mallopt(MMmapThreshold, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): nothing to tune.
        }
    }

    /// <summary>
    /// Hands the free pages inside the heap back to the kernel (glibc's <c>malloc_trim(0)</c>); a
    /// no-op where the settings were not applied. The kept heap fragments over a long run: without
    /// this, 300 ResNet-20 training steps (2 threads) left 2,307 MiB resident where the step needs
    /// about 500 MiB and PyTorch 1.13, given the same thresholds, stays at 517-571 MiB. Something in
    /// TicketLab's stack (TorchSharp and libtorch 2.10) churns small allocations that glibc carves out
    /// of freed tensor buffers: turning glibc's caches of small blocks off (tcache and fastbins) made
    /// it 5,013 MiB. See <see cref="AfterForwardPass"/> for when the training loop calls this.
    /// </summary>
    public static void ReturnFreeMemory()
    {
        if (Configured) malloc_trim(0);
    }

    /// <summary>
    /// Milliseconds between calls of <see cref="ReturnFreeMemory"/> from the training loop, at least.
    /// Each one makes the next steps fault in again what they reuse, so the rule is one of time, not
    /// of steps: a LeNet-300-100 step takes 1 ms (a trim every 25 of them made `ticketlab train`
    /// 1.5-2.5% slower), a ResNet-20 step on 2 CPU threads 0.2 s, a VGG-16 step 1.1 s. Every 10
    /// iterations and 1 s apart left VGG-16 at 1,170 MiB after 40 steps; every 2 s at 924 MiB
    /// (PyTorch: 875), 1.7% slower end to end.
    /// </summary>
    public const long ReturnFreeMemoryIntervalMs = 2000;

    private static readonly Interval TrainingTrims = new(ReturnFreeMemoryIntervalMs, Environment.TickCount64);

    /// <summary>
    /// Called by the training loop after each iteration's forward pass: <see cref="ReturnFreeMemory"/>
    /// once <see cref="ReturnFreeMemoryIntervalMs"/> have passed since the last time. After the forward
    /// pass, because the step's activations are allocated then: what is free is mostly fragments, and
    /// the buffers the step reuses stay mapped. A trim there cost a ResNet-20 step 38 ms, against 81 ms
    /// at the boundary between steps (when every activation has just been freed) and 97 ms after the
    /// backward pass (trimming every step: 550, 463 and 438 images/s against 643). Over 300 ResNet-20
    /// steps on 2 threads (a trim every 10-11 steps): 622 MiB resident, against 686 (median of three
    /// runs) and 768 MiB every 25 iterations at the boundary (docs/performance.md, "Memory over long runs").
    /// </summary>
    public static void AfterForwardPass()
    {
        if (TrainingTrims.TryClaim(Environment.TickCount64)) ReturnFreeMemory();
    }

    /// <summary>
    /// A thing done at most once per <paramref name="intervalMs"/>: <see cref="TryClaim"/> says whether
    /// it is due at a time and, if so, marks it done then, exactly once when threads race for it.
    /// </summary>
    public sealed class Interval(long intervalMs, long startMs)
    {
        private long last = startMs;

        public bool TryClaim(long nowMs)
        {
            long previous = Volatile.Read(ref last);
            return nowMs - previous >= intervalMs && Interlocked.CompareExchange(ref last, nowMs, previous) == previous;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
