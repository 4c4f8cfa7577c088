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
}
