using System.Diagnostics;
using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// <c>./build.sh bench one-in-flight</c>: the figures issue 27 is judged by, from one short interleaved run (a few
/// minutes). Part 1: RpcGen against the tutorial-style pair and the minimal client, one call in flight, int payload, and
/// the tutorial's pair and RpcGen with direct reply-to (what the reply path alone costs).
/// Part 2: RpcGen as shipped against the best effort and Wolverine at 16 and 256 in flight, int and 1 KB payloads.
/// Every window also counts what does not depend on the host's load: thread-pool work items (thread hops), bytes
/// allocated and lock contentions per call, on the client and in the server process.
/// </summary>
public static class OneInFlightScenario
{
    private const string Usage = "usage: one-in-flight [--rounds N] [--seconds S] [--latency-only] [--amqp URI]";

    private static readonly string[] LatencyContenders = { ContenderCatalog.RpcGen, ContenderCatalog.Tutorial, ContenderCatalog.Minimal, ContenderCatalog.TutorialDirectReplyTo, ContenderCatalog.RpcGenDirectReplyTo };
    private static readonly string[] ThroughputContenders = { ContenderCatalog.RpcGen, ContenderCatalog.RpcGenUnbatched, ContenderCatalog.BestEffort, ContenderCatalog.Wolverine };
    private static readonly PayloadKind[] ThroughputPayloads = { PayloadKind.Int, PayloadKind.Object1K };
    private static readonly int[] ThroughputInFlight = { 16, 256 };

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = 7;
        double seconds = 1.5;
        string? amqp = null;
        bool latencyOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(Usage);
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--amqp": amqp = Next(); break;
                case "--latency-only": latencyOnly = true; break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }

        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var keys = (latencyOnly ? LatencyContenders : LatencyContenders.Concat(ThroughputContenders)).Distinct().ToArray();
        var arguments = new List<string> { "--contenders", string.Join(",", keys) };
        if (amqp is not null) arguments.AddRange(new[] { "--amqp", amqp });
        var options = BenchOptions.Parse(arguments.ToArray());
        var total = Stopwatch.StartNew();
        var environment = new BenchEnvironment(options.Amqp, BenchEnvironment.NewPrefix());
        var contenders = options.CreateContenders();
        var byKey = keys.Zip(contenders).ToDictionary(p => p.First, p => p.Second);
        var payload1K = Payloads.Create(Payloads.TargetBytes(PayloadKind.Object1K));
        Payload? PayloadOf(PayloadKind kind) => kind == PayloadKind.Int ? null : payload1K;

        await using var server = await ServerProcess.StartAsync(options, environment, CancellationToken.None);
        var broker = BrokerProcess.Find(options.Amqp.IsDefaultPort ? 5672 : options.Amqp.Port);
        var clients = new Dictionary<string, IContenderClient>();
        var results = new Dictionary<(string Key, PayloadKind Payload, int InFlight), List<WindowResult>>();
        try
        {
            foreach (var key in keys)
            {
                clients[key] = await byKey[key].ConnectAsync(environment, ThroughputInFlight.Max(), CancellationToken.None);
                await Runner.VerifyAsync(byKey[key], clients[key], new Dictionary<PayloadKind, Payload> { [PayloadKind.Object1K] = payload1K });
            }

            // Warm-up: the JIT's tiers settle before anything is timed.
            foreach (var key in keys)
            {
                foreach (var kind in ThroughputPayloads)
                {
                    await Runner.MeasureAsync(clients[key], kind, PayloadOf(kind), 16, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.5), () => TimeSpan.Zero, () => TimeSpan.Zero);
                }
            }

            Console.Error.WriteLine($"one-in-flight: {keys.Length} contenders warmed up ({total.Elapsed.TotalSeconds:0} s).");
            async Task MeasureAsync(string[] order, PayloadKind kind, int inFlight, int roundCount, double windowSeconds)
            {
                for (int round = 0; round < roundCount; round++)
                {
                    // Each round starts with another contender, so the host's drift does not favour one.
                    for (int i = 0; i < order.Length; i++)
                    {
                        var key = order[(i + round) % order.Length];
                        var result = await Runner.MeasureAsync(clients[key], kind, PayloadOf(kind), inFlight, TimeSpan.FromSeconds(0.3),
                            TimeSpan.FromSeconds(windowSeconds), () => server.CpuTime, () => broker?.CpuTime ?? TimeSpan.Zero, serverCounters: server.ReadCountersAsync);
                        if (!results.TryGetValue((key, kind, inFlight), out var list)) results[(key, kind, inFlight)] = list = new();
                        list.Add(result);
                        Console.Error.WriteLine(Invariant(
                            $"one-in-flight: {Payloads.Label(kind),-6} {inFlight,3} in flight round {round + 1}/{roundCount} {byKey[key].Name,-36} {result.CallsPerSecond,8:0} calls/s {result.TotalCpuMicrosPerCall,6:0} µs CPU/call  steal {result.Host.StealFraction * 100,3:0} %"));
                    }
                }
            }

            await MeasureAsync(LatencyContenders, PayloadKind.Int, 1, rounds, seconds);
            foreach (var kind in latencyOnly ? Array.Empty<PayloadKind>() : ThroughputPayloads)
            {
                foreach (var inFlight in ThroughputInFlight) await MeasureAsync(ThroughputContenders, kind, inFlight, Math.Max(3, rounds - 2), Math.Max(0.5, seconds - 0.5));
            }
        }
        finally
        {
            foreach (var client in clients.Values) await client.DisposeAsync();
        }

        Console.WriteLine(Render(results, byKey, rounds, seconds, total.Elapsed, latencyOnly));
        return 0;
    }

    private static string Render(Dictionary<(string Key, PayloadKind Payload, int InFlight), List<WindowResult>> results, Dictionary<string, IContender> byKey,
        int rounds, double seconds, TimeSpan elapsed, bool latencyOnly)
    {
        var text = new StringBuilder();
        List<WindowResult> Of(string key, PayloadKind kind, int inFlight) => results.TryGetValue((key, kind, inFlight), out var list) ? list : new();
        double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.Where(v => !double.IsNaN(v) && !double.IsInfinity(v)).Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        // The median over rounds of the ratio of two contenders' figures in the same round: steadier than a ratio of medians.
        double Paired(string key, string baseline, PayloadKind kind, int inFlight, Func<WindowResult, double> select) =>
            MedianOf(Of(key, kind, inFlight).Zip(Of(baseline, kind, inFlight), (a, b) => select(a) / select(b)));
        double PerCall(WindowResult r, long count) => r.Calls == 0 ? double.NaN : (double)count / r.Calls;
        double Percentile(IEnumerable<WindowResult> list, double p)
        {
            var all = list.SelectMany(r => r.LatencyTicks).Order().ToArray();
            return all.Length == 0 ? double.NaN : all[Math.Clamp((int)Math.Ceiling(p / 100 * all.Length) - 1, 0, all.Length - 1)] * 1_000_000.0 / Stopwatch.Frequency;
        }

        string N(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
        string R(double value) => double.IsNaN(value) ? "–" : value.ToString("0.00", CultureInfo.InvariantCulture) + "×";
        string Counters(List<WindowResult> list) =>
            $"{N(MedianOf(list.Select(r => PerCall(r, r.ClientCounters.WorkItems))), "0.00")} / {N(MedianOf(list.Select(r => PerCall(r, r.ServerCounters.WorkItems))), "0.00")} | "
            + $"{N(MedianOf(list.Select(r => PerCall(r, r.ClientCounters.AllocatedBytes))), "0")} / {N(MedianOf(list.Select(r => PerCall(r, r.ServerCounters.AllocatedBytes))), "0")} | "
            + $"{N(MedianOf(list.Select(r => PerCall(r, r.ClientCounters.LockContentions + r.ServerCounters.LockContentions))), "0.000")}";
        string Cpu(List<WindowResult> list) =>
            $"{N(MedianOf(list.Select(r => r.TotalCpuMicrosPerCall)), "0")} ({N(MedianOf(list.Select(r => r.ClientCpuMicrosPerCall)), "0")} / "
            + $"{N(MedianOf(list.Select(r => r.ServerCpuMicrosPerCall)), "0")} / {N(MedianOf(list.Select(r => r.BrokerCpuMicrosPerCall)), "0")})";
        string Steal(List<WindowResult> list) => N(MedianOf(list.Select(r => r.Host.StealFraction * 100)), "0.0") + " %";

        text.AppendLine(Invariant($"### One call in flight and batching by default (issue 27): `./build.sh bench one-in-flight`"));
        text.AppendLine();
        text.AppendLine(Invariant($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm zzz}; {Environment.ProcessorCount} cores; {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; "
            + $"{rounds} interleaved rounds of {seconds:0.#} s at 1 in flight, {Math.Max(3, rounds - 2)} of {Math.Max(0.5, seconds - 0.5):0.#} s at 16 and 256; finished in {elapsed.TotalSeconds:0} s. "
            + "Ratios are medians of same-round ratios. CPU per call is client + server + broker. Hops are thread-pool work items per call "
            + "(client / server process), bytes are allocated per call (client / server), locks are monitor contentions per call (both): these do not depend on the host's load."));
        text.AppendLine();
        text.AppendLine("| 1 in flight, int | calls/s | p50 µs | p99 µs | CPU µs/call (client / server / broker) | RpcGen calls/s × this | RpcGen p50 ÷ this | hops/call c / s | B/call c / s | locks/call | steal |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var key in LatencyContenders)
        {
            var list = Of(key, PayloadKind.Int, 1);
            text.AppendLine(Invariant($"| {byKey[key].Name} | {N(MedianOf(list.Select(r => r.CallsPerSecond)), "0")} | {N(Percentile(list, 50), "0")} | {N(Percentile(list, 99), "0")} | "
                + $"{Cpu(list)} | "
                + $"{(key == ContenderCatalog.RpcGen ? "–" : R(Paired(ContenderCatalog.RpcGen, key, PayloadKind.Int, 1, r => r.CallsPerSecond)))} | "
                + $"{(key == ContenderCatalog.RpcGen ? "–" : R(Paired(ContenderCatalog.RpcGen, key, PayloadKind.Int, 1, Report.WindowP50Micros)))} | {Counters(list)} | {Steal(list)} |"));
        }

        if (latencyOnly) return text.ToString();
        text.AppendLine();
        text.AppendLine("| payload, in flight | contender | calls/s | CPU µs/call (client / server / broker) | calls/s × best effort | CPU/call × Wolverine | hops/call c / s | B/call c / s | locks/call | steal |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var kind in ThroughputPayloads)
        {
            foreach (var inFlight in ThroughputInFlight)
            {
                foreach (var key in ThroughputContenders)
                {
                    var list = Of(key, kind, inFlight);
                    text.AppendLine(Invariant($"| {Payloads.Label(kind)}, {inFlight} | {byKey[key].Name} | {N(MedianOf(list.Select(r => r.CallsPerSecond)), "0")} | "
                        + $"{Cpu(list)} | "
                        + $"{(key == ContenderCatalog.BestEffort ? "–" : R(Paired(key, ContenderCatalog.BestEffort, kind, inFlight, r => r.CallsPerSecond)))} | "
                        + $"{(key == ContenderCatalog.Wolverine ? "–" : R(Paired(key, ContenderCatalog.Wolverine, kind, inFlight, r => r.TotalCpuMicrosPerCall)))} | {Counters(list)} | {Steal(list)} |"));
                }
            }
        }

        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>For lines joined from several interpolations: RunAsync formats in the invariant culture throughout.</summary>
    private static string Invariant(string text) => text;
}
