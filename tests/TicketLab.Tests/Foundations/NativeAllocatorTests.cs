using TicketLab.Foundations;

namespace TicketLab.Tests.Foundations;

public sealed class NativeAllocatorTests
{
    [Fact]
    public void Glibc_accepts_the_allocator_settings_when_the_user_set_none()
    {
        // Loading TicketLab ran the module initializer; glibc returns 1 from mallopt only for values it accepts.
        bool userSettings = NativeAllocator.UserSettingVariables.Any(v => Environment.GetEnvironmentVariable(v) is not null);
        Assert.Equal(OperatingSystem.IsLinux() && !userSettings, NativeAllocator.Configured);
    }

    [Fact]
    public void Free_memory_goes_back_once_per_interval_and_the_interval_restarts_from_each_return()
    {
        var trims = new NativeAllocator.Interval(NativeAllocator.ReturnFreeMemoryIntervalMs, startMs: 0);
        long interval = NativeAllocator.ReturnFreeMemoryIntervalMs;
        Assert.False(trims.TryClaim(interval - 1)); // too soon after the start
        Assert.True(trims.TryClaim(interval + 10));
        Assert.False(trims.TryClaim(interval + 10)); // claimed already
        Assert.False(trims.TryClaim(2 * interval + 9)); // counted from the last return, not from the start
        Assert.True(trims.TryClaim(2 * interval + 10));
    }

    [Fact]
    public void Threads_racing_for_a_due_return_get_it_once()
    {
        var trims = new NativeAllocator.Interval(1000, startMs: 0);
        int claimed = 0;
        Parallel.For(0, 64, _ => { if (trims.TryClaim(5_000)) Interlocked.Increment(ref claimed); });
        Assert.Equal(1, claimed);
    }
}
