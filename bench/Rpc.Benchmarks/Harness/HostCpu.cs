using System.Globalization;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// The whole host's CPU counters (Linux <c>/proc/stat</c>, the numbers <c>vmstat</c> prints): how much of the machine
/// the hypervisor gave to other guests (steal) and how busy it was. Read before and after each window, so every
/// figure carries the load it was measured under. All zero where <c>/proc/stat</c> does not exist.
/// </summary>
public readonly record struct HostCpu(long Busy, long Idle, long Steal)
{
    /// <summary>Clock ticks per second of <c>/proc/stat</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100.0;

    public long Total => Busy + Idle + Steal;

    public static HostCpu Read()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user already)
            var fields = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long F(int i) => i < fields.Length ? long.Parse(fields[i], CultureInfo.InvariantCulture) : 0;
            return new HostCpu(Busy: F(1) + F(2) + F(3) + F(6) + F(7), Idle: F(4) + F(5), Steal: F(8));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or NullReferenceException)
        {
            return default;
        }
    }

    /// <summary>What the host did between two readings.</summary>
    public static HostLoad Between(HostCpu before, HostCpu after)
    {
        long total = after.Total - before.Total;
        if (total <= 0) return new HostLoad(double.NaN, double.NaN, TimeSpan.Zero);
        return new HostLoad(
            StealFraction: (double)(after.Steal - before.Steal) / total,
            BusyFraction: (double)(after.Busy - before.Busy) / total,
            BusyTime: TimeSpan.FromSeconds((after.Busy - before.Busy) / TicksPerSecond));
    }
}

/// <summary>
/// The host over one window: the share of its CPU time stolen by the hypervisor, the share spent busy (by anything,
/// the benchmark's processes included), and that busy time itself.
/// </summary>
public readonly record struct HostLoad(double StealFraction, double BusyFraction, TimeSpan BusyTime);
