using System.Diagnostics;
using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Every window measured in a run, and the Markdown tables made from them.</summary>
public sealed partial class Report
{
    private readonly Dictionary<(PayloadKind Payload, IContender Contender, int InFlight), List<WindowResult>> _results = new();
    private readonly IReadOnlyList<IContender> _contenders;
    private readonly IReadOnlyList<PayloadKind> _payloads;
    private readonly IReadOnlyList<int> _inFlight;
    private readonly int _rounds;

    public Report(IReadOnlyList<IContender> contenders, IReadOnlyList<PayloadKind> payloads, IReadOnlyList<int> inFlight, int rounds)
    {
        _contenders = contenders;
        _payloads = payloads;
        _inFlight = inFlight;
        _rounds = rounds;
    }

    public void Add(PayloadKind payload, IContender contender, int inFlight, WindowResult result)
    {
        if (!_results.TryGetValue((payload, contender, inFlight), out var list)) _results[(payload, contender, inFlight)] = list = new();
        list.Add(result);
    }

    private readonly Dictionary<(PayloadKind Payload, IContender Contender, int Percent), List<OpenLoopResult>> _openLoop = new();

    /// <summary>A window at a fixed offered load, <paramref name="percent"/> % of the contender's own maximum.</summary>
    public void AddOpenLoop(PayloadKind payload, IContender contender, int percent, OpenLoopResult result)
    {
        if (!_openLoop.TryGetValue((payload, contender, percent), out var list)) _openLoop[(payload, contender, percent)] = list = new();
        list.Add(result);
    }

    /// <summary>A contender's own maximum for a payload: its best median rate over the throughput levels measured.</summary>
    public double MaxThroughput(PayloadKind payload, IContender contender) =>
        _inFlight.Where(n => n > 1).Select(n => Throughput(payload, contender, n)).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private List<WindowResult>? Results(PayloadKind payload, IContender contender, int inFlight) =>
        _results.TryGetValue((payload, contender, inFlight), out var list) ? list : null;

    public double Throughput(PayloadKind payload, IContender contender, int inFlight) =>
        Results(payload, contender, inFlight) is { } list ? Median(list.Select(r => r.CallsPerSecond)) : double.NaN;

    /// <summary>Latency percentile in microseconds over every call of every round.</summary>
    public double LatencyMicros(PayloadKind payload, IContender contender, double percentile)
    {
        if (Results(payload, contender, 1) is not { } list) return double.NaN;
        var all = list.SelectMany(r => r.LatencyTicks).ToArray();
        if (all.Length == 0) return double.NaN;
        Array.Sort(all);
        int index = (int)Math.Ceiling(percentile / 100.0 * all.Length) - 1;
        return all[Math.Clamp(index, 0, all.Length - 1)] * 1_000_000.0 / Stopwatch.Frequency;
    }

    private int LatencySamples(PayloadKind payload, IContender contender) =>
        Results(payload, contender, 1)?.Sum(r => r.LatencyTicks.Length) ?? 0;

    private double MedianOf(PayloadKind payload, IContender contender, int inFlight, Func<WindowResult, double> select) =>
        Results(payload, contender, inFlight) is { } list ? Median(list.Select(select)) : double.NaN;

    /// <summary>
    /// The ceiling a figure is compared with: the plain best-effort contender, or when there is none (a prefetch
    /// sweep, or only variants sending wire features) the best of the best-effort contenders.
    /// </summary>
    private IContender? Baseline(Func<IContender, double> score, bool higherIsBetter)
    {
        if (_contenders.FirstOrDefault(c => c is BestEffortContender { IsPlain: true }) is { } plain) return plain;

        IContender? best = null;
        double bestScore = double.NaN;
        foreach (var contender in _contenders.Where(c => c is BestEffortContender))
        {
            var value = score(contender);
            if (double.IsNaN(value)) continue;
            if (best is null || (higherIsBetter ? value > bestScore : value < bestScore)) (best, bestScore) = (contender, value);
        }

        return best;
    }

    /// <summary>
    /// The median over rounds of the ratio of two contenders' figures in the same round. The machine's speed drifts by a
    /// factor of several within seconds (other guests on the host take its CPUs), so a ratio of windows taken moments
    /// apart is steadier than a ratio of medians taken minutes apart.
    /// </summary>
    public double PairedRatio(PayloadKind payload, IContender contender, IContender baseline, int inFlight, Func<WindowResult, double> select)
    {
        if (Results(payload, contender, inFlight) is not { } mine || Results(payload, baseline, inFlight) is not { } theirs) return double.NaN;
        var ratios = new List<double>();
        for (int round = 0; round < Math.Min(mine.Count, theirs.Count); round++)
        {
            double a = select(mine[round]), b = select(theirs[round]);
            if (a > 0 && b > 0 && !double.IsNaN(a) && !double.IsNaN(b)) ratios.Add(a / b);
        }

        return Median(ratios);
    }

    /// <summary>Median latency of one window, in microseconds.</summary>
    public static double WindowP50Micros(WindowResult result)
    {
        if (result.LatencyTicks.Length == 0) return double.NaN;
        var sorted = result.LatencyTicks.ToArray();
        Array.Sort(sorted);
        return sorted[(sorted.Length - 1) / 2] * 1_000_000.0 / Stopwatch.Frequency;
    }

    private static string RatioText(double ratio) => double.IsNaN(ratio) || ratio == 0 ? "–" : ratio.ToString("0.00", Invariant) + "×";

    private static string Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 || value == 0 ? "–" : (value / baseline).ToString("0.00", Invariant) + "×";

    private static string Number(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, Invariant);

    public string Render()
    {
        var text = new StringBuilder();
        var throughputLevels = _inFlight.Where(n => n > 1).ToArray();
        RenderCpuPerCall(text, throughputLevels);

        if (_inFlight.Contains(1))
        {
            text.AppendLine("### Latency, 1 call in flight (µs; percentiles over every call of every round)");
            text.AppendLine();
            text.AppendLine("| payload | contender | p50 | p99 | p99.9 | p50 ÷ best effort | per round: median of p50 ÷ best effort's | calls |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var payload in _payloads)
            {
                var baseline = Baseline(c => LatencyMicros(payload, c, 50), higherIsBetter: false);
                double baseP50 = baseline is null ? double.NaN : LatencyMicros(payload, baseline, 50);
                foreach (var contender in _contenders)
                {
                    var p50 = LatencyMicros(payload, contender, 50);
                    var paired = baseline is null ? double.NaN : PairedRatio(payload, contender, baseline, 1, WindowP50Micros);
                    text.AppendLine(Invariant, $"| {Payloads.Label(payload)} | {contender.Name} | {Number(p50, "0")} | {Number(LatencyMicros(payload, contender, 99), "0")} | " +
                        $"{Number(LatencyMicros(payload, contender, 99.9), "0")} | {Ratio(p50, baseP50)} | {RatioText(paired)} | {LatencySamples(payload, contender)} |");
                }
            }

            text.AppendLine();
        }

        if (throughputLevels.Length > 0)
        {
            text.AppendLine(Invariant, $"### Throughput (calls/s, median of {_rounds} round{(_rounds == 1 ? "" : "s")}; ratio to best effort: the median over rounds of the ratio within a round)");
            text.AppendLine();
            text.Append("| payload | contender |");
            foreach (var n in throughputLevels) text.Append(Invariant, $" {n} in flight | × best effort |");
            text.AppendLine();
            text.Append("|---|---|");
            foreach (var _ in throughputLevels) text.Append("---:|---:|");
            text.AppendLine();
            foreach (var payload in _payloads)
            {
                foreach (var contender in _contenders)
                {
                    text.Append(Invariant, $"| {Payloads.Label(payload)} | {contender.Name} |");
                    foreach (var n in throughputLevels)
                    {
                        var baseline = Baseline(c => Throughput(payload, c, n), higherIsBetter: true);
                        var value = Throughput(payload, contender, n);
                        var paired = baseline is null ? double.NaN : PairedRatio(payload, contender, baseline, n, r => r.CallsPerSecond);
                        text.Append(Invariant, $" {Number(value, "0")} | {RatioText(paired)} |");
                    }

                    text.AppendLine();
                }
            }

            text.AppendLine();
        }

        text.AppendLine("### Per call: client bytes allocated, client and server CPU time (medians over rounds)");
        text.AppendLine();
        text.AppendLine("Bytes: GC.GetTotalAllocatedBytes(precise: true) over the window in the client process; the servers run in another " +
            "process, so this is the client side alone. CPU: each process's CPU time over the window ÷ calls, shown where calls keep " +
            "the processes busy (with one call in flight it is mostly idle thread-pool spinning, not work). Broker: the RabbitMQ " +
            "node's CPU time (/proc), which also serves anything else using the shared broker at the time.");
        text.AppendLine();
        text.Append("| payload | contender |");
        foreach (var n in _inFlight) text.Append(Invariant, $" bytes @{n} |");
        foreach (var n in throughputLevels) text.Append(Invariant, $" client µs @{n} | server µs @{n} | broker µs @{n} |");
        text.AppendLine();
        text.Append("|---|---|");
        foreach (var _ in _inFlight) text.Append("---:|");
        foreach (var _ in throughputLevels) text.Append("---:|---:|---:|");
        text.AppendLine();
        foreach (var payload in _payloads)
        {
            foreach (var contender in _contenders)
            {
                text.Append(Invariant, $"| {Payloads.Label(payload)} | {contender.Name} |");
                foreach (var n in _inFlight) text.Append(Invariant, $" {Number(MedianOf(payload, contender, n, r => r.BytesPerCall), "0")} |");
                foreach (var n in throughputLevels)
                {
                    text.Append(Invariant, $" {Number(MedianOf(payload, contender, n, r => r.ClientCpuMicrosPerCall), "0")} |");
                    text.Append(Invariant, $" {Number(MedianOf(payload, contender, n, r => r.ServerCpuMicrosPerCall), "0")} |");
                    text.Append(Invariant, $" {Number(MedianOf(payload, contender, n, r => r.BrokerCpuMicrosPerCall), "0")} |");
                }

                text.AppendLine();
            }
        }

        text.AppendLine();
        RenderOpenLoop(text);
        RenderPending(text);
        RenderHost(text);
        RenderTargets(text);
        return text.ToString();
    }
}
