using System.Diagnostics;
using System.Text;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Latency at fixed offered loads, measured from each call's scheduled start.</summary>
public sealed partial class Report
{
    private static double PercentileMicros(long[] sortedTicks, double percentile)
    {
        if (sortedTicks.Length == 0) return double.NaN;
        int index = (int)Math.Ceiling(percentile / 100.0 * sortedTicks.Length) - 1;
        return sortedTicks[Math.Clamp(index, 0, sortedTicks.Length - 1)] * 1_000_000.0 / Stopwatch.Frequency;
    }

    /// <summary>Every latency of every round at one offered load, sorted.</summary>
    private long[] OpenLoopLatencies(PayloadKind payload, Contenders.IContender contender, int percent, Func<OpenLoopResult, long[]> select)
    {
        if (!_openLoop.TryGetValue((payload, contender, percent), out var list)) return Array.Empty<long>();
        var all = list.SelectMany(select).ToArray();
        Array.Sort(all);
        return all;
    }

    public double OpenLoopP50Micros(PayloadKind payload, Contenders.IContender contender, int percent) =>
        PercentileMicros(OpenLoopLatencies(payload, contender, percent, r => r.LatencyTicks), 50);

    private void RenderOpenLoop(StringBuilder text)
    {
        if (_openLoop.Count == 0) return;
        var percents = _openLoop.Keys.Select(k => k.Percent).Distinct().Order().ToArray();
        int rounds = _openLoop.Values.Max(l => l.Count);
        text.AppendLine(Invariant, $"### Latency at fixed offered loads (µs from each call's scheduled start; open loop, {rounds} round{(rounds == 1 ? "" : "s")} pooled)");
        text.AppendLine();
        text.AppendLine("Calls start on a fixed schedule at a share of the contender's own maximum (its best median rate above), whether or " +
            "not earlier calls have been answered; latency runs from the scheduled start, so a stall counts against every call " +
            "it delays. \"Schedule lag p99\" is how late the harness itself started calls (its own noise floor); \"most pending\" " +
            "is the most calls outstanding at once.");
        text.AppendLine();
        text.AppendLine("| payload | contender | load | offered calls/s | answered calls/s | p50 | p99 | p99.9 | calls | schedule lag p99 | most pending |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var payload in _payloads)
        {
            foreach (var contender in _contenders)
            {
                foreach (var percent in percents)
                {
                    if (!_openLoop.TryGetValue((payload, contender, percent), out var list)) continue;
                    var latencies = OpenLoopLatencies(payload, contender, percent, r => r.LatencyTicks);
                    var lags = OpenLoopLatencies(payload, contender, percent, r => r.SendLagTicks);
                    text.AppendLine(Invariant,
                        $"| {Payloads.Label(payload)} | {contender.Name} | {percent} % | {Median(list.Select(r => r.OfferedPerSecond)):0} | " +
                        $"{Median(list.Select(r => r.CompletedPerSecond)):0} | {Number(PercentileMicros(latencies, 50), "0")} | " +
                        $"{Number(PercentileMicros(latencies, 99), "0")} | {Number(PercentileMicros(latencies, 99.9), "0")} | {latencies.Length} | " +
                        $"{Number(PercentileMicros(lags, 99), "0")} | {list.Max(r => r.MostPending)} |");
                }
            }
        }

        text.AppendLine();
    }
}
