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
    [InlineData(5_000, 0, true)]
    [InlineData(5_000, 5_000 - NativeAllocator.ReturnFreeMemoryIntervalMs, true)]
    [InlineData(5_000, 5_000 - NativeAllocator.ReturnFreeMemoryIntervalMs + 1, false)] // too soon after the last return
    public void Free_memory_goes_back_once_enough_time_has_passed_since_the_last_time(long nowMs, long lastMs, bool due)
    {
        Assert.Equal(due, NativeAllocator.IsDue(nowMs, lastMs));
    }
}
