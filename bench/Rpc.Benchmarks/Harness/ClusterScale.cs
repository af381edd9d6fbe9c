using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// <c>./build.sh bench cluster-scale [SECONDS] [IN_FLIGHT]</c>: RpcGen's small call on one node and on the three-node
/// cluster of <c>./build.sh cluster</c> (client on c1, server on c2), with classic and quorum request queues. Client and
/// server share this process; its CPU and every broker node's CPU are divided by the calls. Figures: docs/performance.md.
/// </summary>
internal static class ClusterScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        var window = TimeSpan.FromSeconds(args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10);
        var inFlight = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        var single = new Uri(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } amqp ? amqp : "amqp://guest:guest@localhost:5672/");
        var offset = int.TryParse(Environment.GetEnvironmentVariable("RPCGEN_TEST_PORT_OFFSET"), out var o) ? o : 0;
        var nodes = Enumerable.Range(1, 3).Select(n => new Uri($"amqp://guest:guest@localhost:{5680 + n + offset}/")).ToArray();

        Console.WriteLine(Invariant($"## Cluster scale: {Environment.ProcessorCount} cores, {RuntimeInformationText()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        Console.WriteLine(Invariant($"{inFlight} calls in flight, IncrementAsync (an int each way), 3 s warm-up and {window.TotalSeconds:0} s measured per row."));
        Console.WriteLine();
        Console.WriteLine("| setup | request queue | calls/s | p50 ms | p99 ms | client+server CPU µs/call | broker CPU µs/call (all nodes) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var type in new[] { RpcQueueType.Classic, RpcQueueType.Quorum })
        {
            await RowAsync("one node", single, single, [single], type, window, inFlight);
            await RowAsync("3-node cluster, client on c1, server on c2", nodes[0], nodes[1], nodes, type, window, inFlight);
        }

        return 0;
    }

    private static async Task RowAsync(string setup, Uri client, Uri server, Uri[] brokers, RpcQueueType type, TimeSpan window, int inFlight)
    {
        var prefix = "scale-" + Guid.NewGuid().ToString("N")[..8] + ".";
        RpcConnectionOptions Options(Uri uri) => new() { Uri = uri, QueuePrefix = prefix, Topology = { QueueType = type } };
        var brokerProcesses = brokers.Select(b => BrokerProcess.Find(b.Port)).Where(p => p is not null).Select(p => p!).ToArray();
        await using (var serverConnection = await RpcConnection.ConnectAsync(Options(server)))
        await using (var clientConnection = await RpcConnection.ConnectAsync(Options(client)))
        {
            await using var served = await serverConnection.ServeAsync<IBenchService>(new BenchService());
            var bench = clientConnection.CreateClient<IBenchService>();
            await MeasureAsync(bench, TimeSpan.FromSeconds(3), inFlight);

            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var brokerCpu = brokerProcesses.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.CpuTime);
            var latencies = await MeasureAsync(bench, window, inFlight);
            process.Refresh();
            var calls = latencies.Count;
            var ownCpu = process.TotalProcessorTime - cpu;
            var brokersCpu = brokerProcesses.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.CpuTime) - brokerCpu;
            latencies.Sort();
            Console.WriteLine(Invariant(
                $"| {setup} | {type} | {calls / window.TotalSeconds:0} | {latencies[calls / 2]:0.00} | {latencies[(int)(calls * 0.99)]:0.00} | {ownCpu.TotalMicroseconds / calls:0} | {(brokerProcesses.Length == brokers.Length ? (brokersCpu.TotalMicroseconds / calls).ToString("0", CultureInfo.InvariantCulture) : "n/a")} |"));
        }

        var factory = new ConnectionFactory { Uri = server };
        await using var raw = await factory.CreateConnectionAsync();
        await using var channel = await raw.CreateChannelAsync();
        await channel.QueueDeleteAsync(prefix + "bench");
        await channel.QueueDeleteAsync(prefix + "bench.dead-letter");
    }

    /// <summary>Runs <paramref name="inFlight"/> loops of calls for <paramref name="window"/>; returns each call's latency in ms.</summary>
    private static async Task<List<double>> MeasureAsync(IBenchService bench, TimeSpan window, int inFlight)
    {
        var end = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var results = await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async loop =>
        {
            var latencies = new List<double>();
            for (int i = loop; Stopwatch.GetTimestamp() < end; i++)
            {
                var start = Stopwatch.GetTimestamp();
                if (await bench.IncrementAsync(i) != i + 1) throw new InvalidOperationException("wrong answer");
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return latencies;
        }));
        return results.SelectMany(l => l).ToList();
    }

    private static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
