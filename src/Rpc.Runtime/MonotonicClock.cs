using System;

namespace RpcGen;

/// <summary>
/// Milliseconds on a monotonic clock of a <see cref="TimeProvider"/>: <see cref="Environment.TickCount64"/> for the
/// system's (as before there was a provider), the provider's timestamps otherwise, so a test's fake clock moves every
/// due time RpcGen keeps.
/// </summary>
internal static class MonotonicClock
{
    public static long Milliseconds(TimeProvider time)
    {
        if (ReferenceEquals(time, TimeProvider.System)) return Environment.TickCount64;
        long timestamp = time.GetTimestamp();
        long frequency = time.TimestampFrequency;
        // Split so that a timestamp of ticks since year 1 (FakeTimeProvider's) does not overflow when scaled.
        return timestamp / frequency * 1000 + timestamp % frequency * 1000 / frequency;
    }
}
