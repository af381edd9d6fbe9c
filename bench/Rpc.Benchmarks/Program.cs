using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RabbitMQ.Client;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

// The benchmark: RpcGen beside hand-written RabbitMQ.Client RPC and MassTransit, on one broker, in one run.
// Run it with ./build.sh bench [--quick]; see BenchOptions.Usage for the options.
if (args is ["cluster-scale", .. var scaleArgs]) return await ClusterScale.RunAsync(scaleArgs);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options.Serve) return await ServerProcess.ServeAsync(options);

var total = Stopwatch.StartNew();
var environment = new BenchEnvironment(options.Amqp, BenchEnvironment.NewPrefix());
var contenders = options.CreateContenders();
var payloads = options.Payloads.ToDictionary(k => k, k => k == PayloadKind.Int ? null : Payloads.Create(Payloads.TargetBytes(k)));
var objectPayloads = payloads.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
var checkPayloads = objectPayloads.Count > 0 ? objectPayloads : new Dictionary<PayloadKind, Payload> { [PayloadKind.Object4K] = Payloads.Create(4096) };

Console.WriteLine("## RpcGen runtime benchmark");
Console.WriteLine();
Console.WriteLine(await DescribeMachineAsync(options.Amqp));
Console.WriteLine(Invariant($"Mode: {(options.Quick ? "quick" : "full")}; {options.Rounds} round(s); warm-up {options.Warmup.TotalSeconds:0.#} s and window {options.Window.TotalSeconds:0.#} s per scenario; in flight {string.Join(", ", options.InFlight)}."));
foreach (var (kind, payload) in objectPayloads)
{
    Console.WriteLine(Invariant($"Payload {Payloads.Label(kind)}: {System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(payload, BenchJson.Default.Payload).Length} bytes of JSON, {payload.Items.Length} items."));
}

Console.WriteLine();

await using var server = await ServerProcess.StartAsync(options, environment.Prefix, CancellationToken.None);
var clients = new Dictionary<IContender, IContenderClient>();
try
{
    int maxInFlight = options.InFlight.Max();
    foreach (var contender in contenders)
    {
        var client = await contender.ConnectAsync(environment, maxInFlight, CancellationToken.None);
        clients[contender] = client;
        await Runner.VerifyAsync(contender, client, checkPayloads);
    }

    Console.Error.WriteLine(Invariant($"bench: {contenders.Count} contenders connected and answering correctly ({total.Elapsed.TotalSeconds:0} s)."));
    var report = new Report(contenders, options.Payloads, options.InFlight, options.Rounds);
    using var sampler = options.Allocations ? new AllocationSampler() : null;
    var broker = BrokerProcess.Find(options.Amqp.IsDefaultPort ? 5672 : options.Amqp.Port);
    Console.Error.WriteLine(broker is null ? "bench: broker process not found on this host; broker CPU not measured." : $"bench: broker process {broker.Pid}.");
    // A warm-up pass over every contender and payload before anything is timed: the JIT's tiering (tier-0 code first,
    // optimised code after some calls, compiled in the background) would otherwise slow whichever contender runs first.
    foreach (var payloadKind in options.Payloads)
    {
        foreach (var contender in contenders)
        {
            // 16 in flight runs the same code as 1 in flight, more of it per second.
            await Runner.MeasureAsync(clients[contender], payloadKind, payloads[payloadKind], 16, options.Warmup, options.Warmup,
                () => TimeSpan.Zero, () => TimeSpan.Zero);
        }
    }

    Console.Error.WriteLine(Invariant($"bench: warmed up ({total.Elapsed.TotalSeconds:0} s)."));
    foreach (var payloadKind in options.Payloads)
    {
        for (int round = 0; round < options.Rounds; round++)
        {
            foreach (var inFlight in options.InFlight)
            {
                // Each round starts with another contender, so slow drift of the machine's load does not favour one.
                for (int i = 0; i < contenders.Count; i++)
                {
                    var contender = contenders[(i + round) % contenders.Count];
                    var result = await Runner.MeasureAsync(clients[contender], payloadKind, payloads[payloadKind], inFlight, options.Warmup, options.Window,
                        () => server.CpuTime, () => broker?.CpuTime ?? TimeSpan.Zero, sampler);
                    report.Add(payloadKind, contender, inFlight, result);
                    Console.Error.WriteLine(Invariant(
                        $"bench: {Payloads.Label(payloadKind),-13} round {round + 1}/{options.Rounds} {inFlight,3} in flight  {contender.Name,-40} {result.CallsPerSecond,8:0} calls/s  {result.BytesPerCall,8:0} B/call{Floor(result)}"));
                    if (sampler is not null) Console.Error.WriteLine(sampler.Render(result.Calls));
                }
            }
        }
    }

    Console.WriteLine(report.Render());
    Console.WriteLine(Invariant($"Finished in {total.Elapsed.TotalSeconds:0} s; load average at the end: {LoadAverage()}."));
    return 0;
}
finally
{
    foreach (var client in clients.Values) await client.DisposeAsync();
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

// The fastest call of a latency window: what the path costs when nothing else is in the way, the least noisy figure
// on a shared machine.
static string Floor(WindowResult result) => result.LatencyTicks.Length == 0
    ? string.Empty
    : Invariant($"  fastest {result.LatencyTicks.Min() * 1_000_000.0 / Stopwatch.Frequency,6:0} µs");

static string LoadAverage()
{
    try
    {
        return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "unknown";
    }
}

static async Task<string> DescribeMachineAsync(Uri amqp)
{
    string broker = "unknown";
    try
    {
        await using var connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = "RpcGen bench probe" }.CreateConnectionAsync();
        if (connection.ServerProperties is { } properties && properties.TryGetValue("version", out var version))
        {
            broker = version is byte[] bytes ? Encoding.UTF8.GetString(bytes) : version?.ToString() ?? "unknown";
        }
    }
    catch (Exception e)
    {
        broker = "unreachable: " + e.Message;
    }

    var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
    return Invariant($"""
        | | |
        |---|---|
        | date | {DateTimeOffset.Now:yyyy-MM-dd HH:mm zzz} |
        | machine | {Environment.ProcessorCount} cores, {memory:0} GiB, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture} |
        | .NET | {RuntimeInformation.FrameworkDescription} |
        | broker | RabbitMQ {broker} on {amqp.Host}:{(amqp.IsDefaultPort ? 5672 : amqp.Port)} (same host) |
        | load average at start | {LoadAverage()} |
        """);
}
