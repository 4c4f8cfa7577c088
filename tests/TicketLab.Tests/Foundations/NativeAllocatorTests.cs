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

    [Theory]
    [InlineData(0, 5_000, 0, true)]
    [InlineData(NativeAllocator.ReturnFreeMemoryEvery, 5_000, 3_000, true)]
    [InlineData(NativeAllocator.ReturnFreeMemoryEvery + 1, 5_000, 0, false)] // not an iteration it returns at
    [InlineData(2 * NativeAllocator.ReturnFreeMemoryEvery, 5_000, 5_000 - NativeAllocator.ReturnFreeMemoryIntervalMs + 1, false)] // too soon after the last return
    [InlineData(2 * NativeAllocator.ReturnFreeMemoryEvery, 5_000, 5_000 - NativeAllocator.ReturnFreeMemoryIntervalMs, true)]
    public void Free_memory_goes_back_every_so_many_iterations_once_enough_time_has_passed(long iteration, long nowMs, long lastMs, bool due)
    {
        Assert.Equal(due, NativeAllocator.IsDue(iteration, nowMs, lastMs));
    }
}
