using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using RpcGen.Testing;
using RpcGen.Testing.Bench;

// 10,000 calls on the in-memory broker: one at a time, then 64 in flight. Each round runs after a warm-up of 1,000
// calls; the best of three rounds is printed. Usage: Rpc.Testing.Bench [calls]
int calls = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
await using var harness = await RpcTestHarness.StartAsync();
await using var server = await harness.Connection.ServeAsync<IBenchCalc>(new BenchCalc());
var client = harness.Connection.CreateClient<IBenchCalc>();
for (int i = 0; i < 1_000; i++) await client.AddAsync(i, 1);

foreach (int inFlight in new[] { 1, 64 })
{
    var best = TimeSpan.MaxValue;
    for (int round = 0; round < 3; round++)
    {
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async lane =>
        {
            for (int i = lane; i < calls; i += inFlight) await client.AddAsync(i, 1);
        }));
        watch.Stop();
        if (watch.Elapsed < best) best = watch.Elapsed;
    }

    Console.WriteLine($"{calls} calls, {inFlight,2} in flight: {best.TotalMilliseconds,7:0} ms ({calls / best.TotalSeconds,8:0} calls/s)");
}

namespace RpcGen.Testing.Bench
{
    [RpcService(Queue = "bench.calc")]
    public interface IBenchCalc
    {
        Task<int> AddAsync(int a, int b);
    }

    public sealed class BenchCalc : IBenchCalc
    {
        public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);
    }
}
