using System.Diagnostics;
using System.Globalization;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// <c>./build.sh bench stream [ITEMS]</c>: streamed results (issue 16) beside a request/reply loop fetching pages of
/// the same data. One million small items (ints) with several batch sizes and windows, and 1 MiB of 4 KiB items
/// (repeated 16 times, to measure more than a blink), each after a warm-up pass. Client and server share this
/// process and one broker; CPU is this process's (client + server). Figures: docs/performance.md, "Streaming results".
/// </summary>
internal static class StreamScenario
{
    private const int BlockSize = 4096;
    private const int BlocksPerMiB = 1024 * 1024 / BlockSize;
    private const int MiBRepeats = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        int items = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var uri = new Uri(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } amqp ? amqp : "amqp://guest:guest@localhost:5672/");
        Console.WriteLine(Invariant($"## Streaming results: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average at start {LoadAverage()}"));
        Console.WriteLine();
        Console.WriteLine("| scenario | window | batch | items/s | MiB/s of JSON | CPU µs/item (client+server) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var batch in new[] { 64, 16, 256 }) await NumbersRowAsync(uri, items, 256, batch);
        foreach (var window in new[] { 32, 1024 }) await NumbersRowAsync(uri, items, window, 64);
        await NumbersRowAsync(uri, items / 10, 256, 1);
        foreach (var page in new[] { 256, 4096 }) await NumberPagesRowAsync(uri, items, page);
        foreach (var batch in new[] { 1, 16 }) await BlocksRowAsync(uri, 256, batch);
        foreach (var page in new[] { 16, 256 }) await BlockPagesRowAsync(uri, page);
        Console.WriteLine();
        Console.WriteLine(Invariant($"Load average at the end: {LoadAverage()}."));
        return 0;
    }

    private static Task NumbersRowAsync(Uri uri, int items, int window, int batch) =>
        RowAsync(uri, window, batch, Invariant($"stream {items} ints"), items, Digits(items), async bench =>
        {
            long sum = 0;
            await foreach (var n in bench.NumbersAsync(items)) sum += n;
            if (sum != (long)items * (items - 1) / 2) throw new InvalidOperationException("wrong sum");
        });

    private static Task NumberPagesRowAsync(Uri uri, int items, int page) =>
        RowAsync(uri, 0, 0, Invariant($"request/reply pages of {page} ints, one at a time"), items, Digits(items), async bench =>
        {
            for (int start = 0; start < items; start += page)
            {
                var numbers = await bench.NumberPageAsync(start, Math.Min(page, items - start));
                if (numbers[0] != start) throw new InvalidOperationException("wrong page");
            }
        });

    private static Task BlocksRowAsync(Uri uri, int window, int batch) =>
        RowAsync(uri, window, batch, Invariant($"stream 1 MiB of 4 KiB items (x{MiBRepeats})"), BlocksPerMiB * MiBRepeats, BlocksPerMiB * MiBRepeats * 5464L, async bench =>
        {
            for (int r = 0; r < MiBRepeats; r++)
            {
                int count = 0;
                await foreach (var block in bench.BlocksAsync(BlocksPerMiB, BlockSize)) count += block.Length == BlockSize ? 1 : 0;
                if (count != BlocksPerMiB) throw new InvalidOperationException("wrong blocks");
            }
        });

    private static Task BlockPagesRowAsync(Uri uri, int page) =>
        RowAsync(uri, 0, 0, Invariant($"request/reply pages of {page} 4 KiB items (x{MiBRepeats} MiB)"), BlocksPerMiB * MiBRepeats, BlocksPerMiB * MiBRepeats * 5464L, async bench =>
        {
            for (int r = 0; r < MiBRepeats; r++)
            {
                for (int start = 0; start < BlocksPerMiB; start += page)
                {
                    var blocks = await bench.BlockPageAsync(Math.Min(page, BlocksPerMiB - start), BlockSize);
                    if (blocks[0].Length != BlockSize) throw new InvalidOperationException("wrong page");
                }
            }
        });

    private static async Task RowAsync(Uri uri, int window, int batch, string scenario, long items, long jsonBytes, Func<IStreamBench, Task> run)
    {
        var prefix = "stream-" + Guid.NewGuid().ToString("N")[..8] + ".";
        RpcConnectionOptions Options() => new()
        {
            Uri = uri,
            QueuePrefix = prefix,
            Client = { StreamWindow = window > 0 ? window : 256, DefaultTimeout = TimeSpan.FromMinutes(10) },
            Server = { StreamBatchSize = batch > 0 ? batch : 64 },
        };
        await using var serverConnection = await RpcConnection.ConnectAsync(Options());
        await using var clientConnection = await RpcConnection.ConnectAsync(Options());
        await using var served = await serverConnection.ServeAsync<IStreamBench>(new StreamBench());
        var bench = clientConnection.CreateClient<IStreamBench>();
        await run(bench); // warm-up: JIT, pools, the broker's queue process
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await run(bench);
        watch.Stop();
        process.Refresh();
        var used = process.TotalProcessorTime - cpu;
        Console.WriteLine(Invariant(
            $"| {scenario} | {(window > 0 ? window.ToString(CultureInfo.InvariantCulture) : "-")} | {(batch > 0 ? batch.ToString(CultureInfo.InvariantCulture) : "-")} | {items / watch.Elapsed.TotalSeconds:0} | {jsonBytes / watch.Elapsed.TotalSeconds / (1024 * 1024):0.0} | {used.TotalMicroseconds / items:0.0} |"));
        await AmqpCleanupQuietly(uri, prefix + "bench-stream");
    }

    /// <summary>Bytes of the JSON of 0 .. items - 1 plus one comma each: the size of the data, whatever the framing.</summary>
    private static long Digits(int items)
    {
        long total = 0;
        for (long magnitude = 1, digits = 1; magnitude <= items; magnitude *= 10, digits++)
        {
            total += (Math.Min(items, magnitude * 10) - magnitude) * (digits + 1);
        }

        return total + 1;
    }

    private static async Task AmqpCleanupQuietly(Uri uri, string queue)
    {
        try
        {
            var factory = new RabbitMQ.Client.ConnectionFactory { Uri = uri };
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
        catch (Exception)
        {
            // Leftover queues of a benchmark run are harmless.
        }
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
