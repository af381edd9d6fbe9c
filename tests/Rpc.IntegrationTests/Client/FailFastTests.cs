using System.Diagnostics;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// Calls are published mandatory: a queue nobody declared makes the broker return the message, and the call fails at
/// once instead of waiting for its timeout (docs/wire-format.md, "Unroutable requests").
/// </summary>
public sealed class FailFastTests
{
    private readonly ITestOutputHelper _output;

    public FailFastTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_call_to_a_missing_queue_fails_in_well_under_a_second_naming_the_queue()
    {
        await using var broker = new TestBroker();
        // Only the broker's return of a mandatory publish can end the call early: the server check (a passive declare,
        // which would also find the queue missing) is put off past the call's timeout, so without `mandatory` the call
        // would end with RpcTimeoutException after 10 s.
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(10);
            o.Client.ServerCheckDelay = TimeSpan.FromMinutes(5);
        });
        await WarmUpAsync(rpc, broker);
        var audit = rpc.CreateClient<IAuditTrail>();
        using var metrics = new RpcMetrics(broker.QueueName("audit"));

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => audit.CountAsync());
        watch.Stop();
        _output.WriteLine($"failed after {watch.Elapsed.TotalMilliseconds:0.0} ms");

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"failed only after {watch.Elapsed}");
        Assert.Equal(broker.QueueName("audit"), e.Queue);
        Assert.Contains($"'{broker.QueueName("audit")}'", e.Message);
        Assert.Equal("AuditTrail", e.Service);
        Assert.Equal("Count", e.Method);
        Assert.Equal(0, rpc.PendingCallCount);
        Assert.Equal(0, metrics[RpcDiagnostics.ClientServerChecks]);
    }

    // A one-way call no longer fails on a missing queue (changed on purpose with durable one-way work): it declares the
    // durable service queue and its work waits there for a server (DurableWorkTests, OneWayShapeTests).

    /// <summary>
    /// The first call in a process pays a one-time start-up cost (JIT compilation, type loading, serializer metadata:
    /// 0.1 to 1.1 s on a loaded 2-core machine, against 2 ms for the same call on a second connection in the same
    /// process), which has nothing to do with the broker. One unroutable call to another missing queue pays it first,
    /// so the measured call shows how fast the broker's return fails a call; the cold figure is printed too.
    /// </summary>
    private async Task WarmUpAsync(RpcConnection rpc, TestBroker broker)
    {
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => rpc.CreateClient<ICalculator>().AddAsync(1, 2));
        _output.WriteLine($"warm-up (first unroutable call of this connection, to '{e.Queue}'): {watch.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.Equal(broker.QueueName("calc"), e.Queue);
    }

    [Fact]
    public async Task Once_the_queue_exists_the_same_calls_and_one_way_calls_are_delivered()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var audit = rpc.CreateClient<IAuditTrail>();
        await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => audit.CountAsync());
        // Durable work: the one-way call made the queue, and its request waits there for the server.
        await audit.RecordAsync("too early");
        var trail = new AuditTrail();
        await broker.ServeAsync<IAuditTrail>(rpc, trail);

        await audit.RecordAsync("first");
        await audit.RecordAsync("second");
        await Wait.UntilAsync(() => trail.Entries.Count == 3, $"{trail.Entries.Count} of 3 one-way calls arrived");

        Assert.Equal(new[] { "first", "second", "too early" }, trail.Entries.Order()); // a server runs up to prefetch requests at once: any order
        Assert.Equal(3, await audit.CountAsync());
    }
}
