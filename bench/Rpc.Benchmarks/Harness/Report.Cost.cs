using System.Text;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>The headline table: the CPU a call costs the whole machine, next to the rates, and the host's load.</summary>
public sealed partial class Report
{
    /// <summary>The plain best effort: the ceiling every ratio of the headline is taken to.</summary>
    private IContender? PlainBestEffort => _contenders.FirstOrDefault(c => c is BestEffortContender { IsPlain: true });

    /// <summary>The best effort sending RpcGen's wire features: the like-for-like comparison for RpcGen.</summary>
    private IContender? BestEffortWithFeatures => _contenders.FirstOrDefault(c => c is BestEffortContender { SendsAllFeatures: true });

    private void RenderCpuPerCall(StringBuilder text, int[] throughputLevels)
    {
        if (throughputLevels.Length == 0) return;
        var plain = PlainBestEffort;
        var like = BestEffortWithFeatures;
        text.AppendLine(Invariant, $"### CPU per call (µs of client + server + broker CPU time per call; medians of {_rounds} round{(_rounds == 1 ? "" : "s")})");
        text.AppendLine();
        text.AppendLine("Client and server are the harness process and its server child; the broker is the RabbitMQ node (0 for gRPC, " +
            "which has none). With all three on the same 2 cores and CPU-bound, CPU per call is what decides throughput. Ratios are " +
            "paired: the median over rounds of the ratio within a round.");
        text.AppendLine();
        text.Append("| payload | contender |");
        foreach (var n in throughputLevels)
        {
            text.Append(Invariant, $" calls/s @{n} | CPU µs @{n} (client+server+broker) |");
            if (plain is not null) text.Append(Invariant, $" × best effort @{n} |");
            if (like is not null) text.Append(Invariant, $" × best effort + all @{n} |");
        }

        text.AppendLine();
        text.Append("|---|---|");
        foreach (var _ in throughputLevels) text.Append("---:|---:|" + (plain is null ? "" : "---:|") + (like is null ? "" : "---:|"));
        text.AppendLine();
        foreach (var payload in _payloads)
        {
            foreach (var contender in _contenders)
            {
                text.Append(Invariant, $"| {Payloads.Label(payload)} | {contender.Name} |");
                foreach (var n in throughputLevels)
                {
                    // A window in which no call finished (256 large calls in a short window) has no cost per call to show.
                    if (!(Throughput(payload, contender, n) > 0))
                    {
                        text.Append(" – | – |" + (plain is null ? "" : " – |") + (like is null ? "" : " – |"));
                        continue;
                    }

                    double total = MedianOf(payload, contender, n, r => r.TotalCpuMicrosPerCall);
                    text.Append(Invariant, $" {Number(Throughput(payload, contender, n), "0")} | {Number(total, "0")} " +
                        $"({Number(MedianOf(payload, contender, n, r => r.ClientCpuMicrosPerCall), "0")}+" +
                        $"{Number(MedianOf(payload, contender, n, r => r.ServerCpuMicrosPerCall), "0")}+" +
                        $"{Number(MedianOf(payload, contender, n, r => r.BrokerCpuMicrosPerCall), "0")}) |");
                    if (plain is not null) text.Append(Invariant, $" {RatioText(PairedRatio(payload, contender, plain, n, r => r.TotalCpuMicrosPerCall))} |");
                    if (like is not null) text.Append(Invariant, $" {RatioText(PairedRatio(payload, contender, like, n, r => r.TotalCpuMicrosPerCall))} |");
                }

                text.AppendLine();
            }
        }

        text.AppendLine();
    }

    private IEnumerable<HostLoad> AllHostLoads() =>
        _results.Values.SelectMany(list => list).Select(r => r.Host).Concat(_openLoop.Values.SelectMany(list => list).Select(r => r.Host))
            .Where(h => !double.IsNaN(h.StealFraction));

    private void RenderHost(StringBuilder text)
    {
        var loads = AllHostLoads().ToArray();
        var other = _results.Values.SelectMany(list => list).Select(r => r.OtherCpuFraction).Where(v => !double.IsNaN(v)).ToArray();
        if (loads.Length == 0) return;
        text.AppendLine("### The host during the measured windows (/proc/stat, as vmstat reads it)");
        text.AppendLine();
        text.AppendLine("| | median | min | max |");
        text.AppendLine("|---|---:|---:|---:|");
        void Row(string what, double[] values) => text.AppendLine(Invariant,
            $"| {what} | {Median(values) * 100:0} % | {values.Min() * 100:0} % | {values.Max() * 100:0} % |");
        Row($"CPU stolen by the hypervisor (steal), {loads.Length} windows", loads.Select(h => h.StealFraction).ToArray());
        Row("CPU busy (anything on the host)", loads.Select(h => h.BusyFraction).ToArray());
        if (other.Length > 0)
        {
            Row("CPU used by other work than client, server and broker (share of all cores; closed-loop windows)", other);
        }

        text.AppendLine();
    }
}
