using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RpcGen;
using RpcGen.Outbox.Benchmarks;
using RpcGen.PostgreSql;

// The outbox benchmark (docs/performance.md, "Outbox"): what announcing an order costs per transaction, and how fast
// the announcements get out, for the transaction alone, publishing after the commit, RpcGen.PostgreSql's outbox and
// Wolverine's PostgreSQL outbox, in one run against one broker and one PostgreSQL.
// Usage: Rpc.Outbox.Benchmarks [--quick]   (RPCGEN_AMQP, RPCGEN_POSTGRES say where; ./build.sh bench outbox)
bool quick = args.Contains("--quick");
int latencyCount = quick ? 300 : 2000, throughputCount = quick ? 2000 : 10000, writers = 16, backlog = quick ? 5000 : 20000;
var amqp = new Uri(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } a ? a : "amqp://guest:guest@localhost:5672/");
var postgres = Environment.GetEnvironmentVariable("RPCGEN_POSTGRES") is { Length: > 0 } p ? p : "Host=127.0.0.1;Port=5433;Username=postgres;Password=postgres;Database=postgres";
var run = "ob" + Guid.NewGuid().ToString("N")[..6];
var prefix = run + ".";
var table = run + "_orders";

await using var dataSource = NpgsqlDataSource.Create(postgres + ";Maximum Pool Size=64");
await using var rpc = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = amqp, QueuePrefix = prefix, ConnectionName = "outbox bench" });
var options = new PostgresOutboxOptions { OutboxTable = run + "_outbox", InboxTable = run + "_inbox", NotifyChannel = run };
var eventsExchange = prefix + "bench.orders";

Console.WriteLine("## Outbox benchmark");
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; " +
    $"{(quick ? "quick" : "full")} mode: {latencyCount} transactions one at a time, {throughputCount} from {writers} writers, a backlog of {backlog} rows."));
Console.WriteLine("Versions: " + string.Join(", ", new[] { typeof(RpcConnection), typeof(PostgresOutbox), typeof(NpgsqlConnection), typeof(Wolverine.IMessageBus) }
    .Select(t => t.Assembly.GetName()).Select(n => $"{n.Name} {n.Version}")) + ".");
Console.WriteLine();

var results = new List<string>();
await RunAsync(new DatabaseOnly(dataSource, table), arrivalsExchange: null);
await RunAsync(new RpcGenDirect(dataSource, table, rpc, prefix + "direct"), eventsExchange);
var quiet = new PostgresOutboxOptions { OutboxTable = run + "_quiet", InboxTable = options.InboxTable, NotifyChannel = run, NotifyOnCommit = false };
await using (var withoutNotify = new RpcGenOutbox(dataSource, table, rpc, prefix + "quiet", quiet))
{
    await withoutNotify.Relay.StartAsync(CancellationToken.None);
    await RunAsync(withoutNotify, eventsExchange);
}

var outbox = new RpcGenOutbox(dataSource, table, rpc, prefix + "outbox", options);
await outbox.Relay.StartAsync(CancellationToken.None);
await RunAsync(outbox, eventsExchange);
await using (var wolverine = await WolverineOutbox.StartAsync(dataSource, table, amqp, prefix + "wolverine", run + "_wolverine"))
{
    await RunAsync(wolverine, arrivalsExchange: null);
}

Console.WriteLine("| how | latency per transaction, median | p99 | throughput, 16 writers (msg/s, until received) | CPU per message (bench process) |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
foreach (var line in results) Console.WriteLine(line);
Console.WriteLine();
await RelayDrainAsync();
await CleanUpAsync();
return 0;

async Task RunAsync(IOutboxContender contender, string? arrivalsExchange)
{
    await Database.CreateAsync(dataSource, table);
    await using var arrivals = contender.Queue is { } queue ? await Arrivals.StartAsync(amqp, queue, arrivalsExchange) : null;
    long id = 0;
    // Warm-up: the JIT, the pools, the declarations.
    for (int i = 0; i < 200; i++) await contender.PlaceAsync(++id);
    var latencies = new double[latencyCount];
    for (int i = 0; i < latencyCount; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await contender.PlaceAsync(++id);
        latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    Array.Sort(latencies);
    var expected = id + throughputCount;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    long next = id;
    await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
    {
        long mine;
        while ((mine = Interlocked.Increment(ref next)) <= expected) await contender.PlaceAsync(mine);
    })));
    if (arrivals is not null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (arrivals.Count < expected && DateTime.UtcNow < deadline) await Task.Delay(5);
        if (arrivals.Count < expected) throw new InvalidOperationException($"{contender.Name}: {arrivals.Count} of {expected} messages arrived");
    }

    var elapsed = clock.Elapsed;
    var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    results.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {contender.Name} | {latencies[latencies.Length / 2]:0.00} ms | {latencies[(int)(latencies.Length * 0.99)]:0.00} ms | {throughputCount / elapsed.TotalSeconds:0} | {cpuUsed.TotalMicroseconds / throughputCount:0} µs |"));
    Console.Error.WriteLine($"bench: {contender.Name} done");
    if (contender is not RpcGenOutbox) await contender.DisposeAsync();
}

// The relay alone: a backlog written while it was stopped, then drained.
async Task RelayDrainAsync()
{
    await outbox.Relay.StopAsync(CancellationToken.None);
    await using var arrivals = await Arrivals.StartAsync(amqp, prefix + "drain", eventsExchange);
    var writer = new PostgresOutbox(rpc, options);
    for (int written = 0; written < backlog; written += 500)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var events = writer.CreatePublisher<IBenchOrderEvents>(transaction);
        for (int i = 0; i < 500; i++) await events.OrderPlacedAsync(new BenchOrderPlaced(written + i, "customer-42", 99.50m));
        await transaction.CommitAsync();
    }

    foreach (var (inFlight, batch) in new[] { (100, 100), (1, 100) })
    {
        if (inFlight == 1)
        {
            // The strict-order setting: a smaller backlog, one confirm round trip per message.
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var events = writer.CreatePublisher<IBenchOrderEvents>(transaction);
            for (int i = 0; i < backlog / 10; i++) await events.OrderPlacedAsync(new BenchOrderPlaced(i, "customer-42", 99.50m));
            await transaction.CommitAsync();
        }

        int rows = inFlight == 1 ? backlog / 10 : backlog;
        var relayOptions = new PostgresOutboxOptions { OutboxTable = options.OutboxTable, InboxTable = options.InboxTable, NotifyChannel = options.NotifyChannel, MaxInFlight = inFlight, BatchSize = batch };
        await using var relay = new PostgresOutboxRelay(dataSource, rpc, relayOptions);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await relay.StartAsync(CancellationToken.None);
        while (relay.PublishedCount < rows) await Task.Delay(5);
        var elapsed = clock.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Relay drain, MaxInFlight {inFlight}: {rows} rows in {elapsed.TotalSeconds:0.0} s = {rows / elapsed.TotalSeconds:0} msg/s, {cpuUsed.TotalMicroseconds / rows:0} µs CPU per message."));
    }
}

async Task CleanUpAsync()
{
    await using var drop = dataSource.CreateCommand($"DROP TABLE IF EXISTS {table}, {options.OutboxTable}, {run}_quiet, {options.InboxTable}; DROP SCHEMA IF EXISTS {run}_wolverine CASCADE");
    await drop.ExecuteNonQueryAsync();
    await using var amqpConnection = await new RabbitMQ.Client.ConnectionFactory { Uri = amqp }.CreateConnectionAsync();
    await using var channel = await amqpConnection.CreateChannelAsync();
    await channel.ExchangeDeleteAsync(eventsExchange);
}
