using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RabbitMQ.Client;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

// The benchmark: RpcGen beside hand-written RabbitMQ.Client RPC, MassTransit and Wolverine on one broker, and gRPC
// without one, in one run.
// Run it with ./build.sh bench [--quick]; see BenchOptions.Usage for the options.
if (args is ["cluster-scale", .. var scaleArgs]) return await ClusterScale.RunAsync(scaleArgs);
if (args is ["stream", .. var streamArgs]) return await StreamScenario.RunAsync(streamArgs);
if (args is ["one-in-flight", .. var oneArgs]) return await OneInFlightScenario.RunAsync(oneArgs);

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
var loadAtStart = LoadAverage();
var environment = new BenchEnvironment(options.Amqp, BenchEnvironment.NewPrefix()) { GrpcPort = GrpcContender.FreeLoopbackPort() };
var contenders = options.CreateContenders();
var payloads = options.Payloads.ToDictionary(k => k, k => k == PayloadKind.Int ? null : Payloads.Create(Payloads.TargetBytes(k)));
var objectPayloads = payloads.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
var checkPayloads = objectPayloads.Count > 0 ? objectPayloads : new Dictionary<PayloadKind, Payload> { [PayloadKind.Object4K] = Payloads.Create(4096) };

Console.WriteLine("## RpcGen runtime benchmark");
Console.WriteLine();
Console.WriteLine(await DescribeMachineAsync(options.Amqp));
Console.WriteLine(Invariant($"Mode: {(options.Quick ? "quick" : "full")}; {options.Rounds} round(s); warm-up {options.Warmup.TotalSeconds:0.#} s and window {options.Window.TotalSeconds:0.#} s per scenario; in flight {string.Join(", ", options.InFlight)}."));
if (options.Connections > 1) Console.WriteLine(Invariant($"Client connections per contender: {options.Connections} (workers dealt out among them)."));
if (options.OfferedLoad.Length > 0)
{
    Console.WriteLine(Invariant($"Offered load: {string.Join(", ", options.OfferedLoad.Select(p => p + " %"))} of each contender's maximum; {options.OfferedRounds} round(s) of {options.OfferedWindow.TotalSeconds:0.#} s."));
}

Console.WriteLine("Versions: " + string.Join(", ", new[] { typeof(RpcGen.RpcConnection), typeof(IConnection), typeof(MassTransit.IBus), typeof(Wolverine.IMessageBus),
    typeof(Grpc.Net.Client.GrpcChannel), typeof(Grpc.AspNetCore.Server.GrpcServiceOptions) }.Select(VersionOf)) + ".");
foreach (var (kind, payload) in objectPayloads)
{
    Console.WriteLine(Invariant($"Payload {Payloads.Label(kind)}: {System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(payload, BenchJson.Default.Payload).Length} bytes of JSON, {payload.Items.Length} items."));
}

Console.WriteLine();

await using var server = await ServerProcess.StartAsync(options, environment, CancellationToken.None);
var clients = new Dictionary<IContender, IContenderClient>();
try
{
    int maxInFlight = options.InFlight.Max();
    foreach (var contender in contenders)
    {
        var client = await MultiConnectionClient.ConnectAsync(contender, environment, options.Connections, maxInFlight, CancellationToken.None);
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

    // Open loop at fixed shares of each contender's own maximum (its best rate in this run's closed-loop rounds).
    async Task OfferedLoadAsync(PayloadKind payloadKind)
    {
        if (options.OfferedLoad.Length == 0 || !options.InFlight.Any(n => n > 1)) return;
        int bytes = payloads[payloadKind] is { } p ? System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(p, BenchJson.Default.Payload).Length : 16;
        // Enough room for a stall, bounded so that requests waiting in the client stay within 64 MB of bodies.
        int maxPending = Math.Clamp(64 * 1024 * 1024 / Math.Max(1, bytes), 256, 10_000);
        for (int round = 0; round < options.OfferedRounds; round++)
        {
            foreach (var percent in options.OfferedLoad)
            {
                for (int i = 0; i < contenders.Count; i++)
                {
                    var contender = contenders[(i + round) % contenders.Count];
                    double max = report.MaxThroughput(payloadKind, contender);
                    if (double.IsNaN(max) || max <= 0) continue;
                    double rate = max * percent / 100.0;
                    var result = await OpenLoopRunner.MeasureAsync(clients[contender], maxInFlight, payloadKind, payloads[payloadKind], rate, options.Warmup, options.OfferedWindow, maxPending);
                    report.AddOpenLoop(payloadKind, contender, percent, result);
                    var sorted = result.LatencyTicks.Order().ToArray();
                    double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q / 100 * sorted.Length) - 1, 0, sorted.Length - 1)] * 1_000_000.0 / Stopwatch.Frequency;
                    Console.Error.WriteLine(Invariant(
                        $"bench: {Payloads.Label(payloadKind),-13} round {round + 1}/{options.OfferedRounds} {percent,3} % load  {contender.Name,-40} {rate,8:0} offered  {result.CompletedPerSecond,8:0} answered/s  p50 {P(50),7:0} µs  p99 {P(99),7:0} µs  steal {result.Host.StealFraction * 100,3:0} %"));
                }
            }
        }
    }
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
                        $"bench: {Payloads.Label(payloadKind),-13} round {round + 1}/{options.Rounds} {inFlight,3} in flight  {contender.Name,-40} {result.CallsPerSecond,8:0} calls/s  {result.TotalCpuMicrosPerCall,6:0} µs CPU/call  {result.BytesPerCall,8:0} B/call  steal {result.Host.StealFraction * 100,3:0} %{Floor(result)}"));
                    if (sampler is not null) Console.Error.WriteLine(sampler.Render(result.Calls));
                }
            }
        }

        await OfferedLoadAsync(payloadKind);
    }

    if (options.Pending > 0 && OperatingSystem.IsLinux())
    {
        foreach (var contender in contenders)
        {
            var pending = await PendingMemory.MeasureAsync(clients[contender], maxInFlight, options.Pending, server.Pid, broker?.Pid);
            report.AddPending(contender, pending);
            Console.Error.WriteLine(Invariant(
                $"bench: {options.Pending} pending  {contender.Name,-40} client {pending.ClientManagedBytesPerCall,7:0} B/call managed, {pending.ClientWorkingSetBytesPerCall,7:0} B/call working set; broker {pending.BrokerResidentBytesPerCall,7:0} B/call; drained in {pending.Drain.TotalSeconds:0.0} s"));
        }
    }

    Console.WriteLine(report.Render());
    Console.WriteLine(Invariant($"Load average at the start: {loadAtStart}; at the end: {LoadAverage()}."));
    Console.WriteLine(Invariant($"Finished in {total.Elapsed.TotalSeconds:0} s."));
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

static string VersionOf(Type type)
{
    var assembly = type.Assembly;
    var informational = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
    // Strip the source revision some packages append ("8.5.12+abc123").
    return assembly.GetName().Name + " " + (informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "?");
}

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
