using System.Diagnostics;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>A queue that exists with nobody consuming it (servers stopped) fails calls fast, unless they wait for ready.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class FailFastWhenNobodyServesTests
{
    private readonly ITestOutputHelper _output;

    public FailFastWhenNobodyServesTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_call_to_a_queue_without_consumers_fails_within_3_seconds_and_later_calls_fail_unsent()
    {
        await using var broker = new TestBroker();
        // Served once, then stopped: the durable queue stays, with no consumer.
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await server.DisposeAsync();
        var rpc = await broker.ConnectAsync(); // the default 30 s timeout
        var shop = rpc.CreateClient<IShop>();
        using var metrics = new RpcMetrics(broker.QueueName("shop"));

        var watch = Stopwatch.StartNew();
        // Published before anyone knew: the request waits in the queue and may still run, and the exception says so.
        var e = await Assert.ThrowsAsync<RpcRequestQueuedException>(() => shop.WaitAsync(10));
        watch.Stop();
        _output.WriteLine($"failed after {watch.Elapsed.TotalMilliseconds:0} ms, {metrics[RpcDiagnostics.ClientServerChecks]} passive declare(s)");

        Assert.Contains($"no server consumes queue '{broker.QueueName("shop")}'", e.Message);
        Assert.Equal("Shop", e.Service);
        Assert.Equal("Wait", e.Method);
        // The issue's bound is 3 s (the default check comes after 1 s); twice that for a loaded CI machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"took {watch.Elapsed}");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"failed before the check delay: {watch.Elapsed}");
        Assert.Equal(0, rpc.PendingCallCount);

        // Ten calls made now share one answer, asked before publishing: at most a few passive declares, not one per
        // call, and none of them is sent, so each fails as unavailable (safe to retry), at once.
        await Task.Delay(600); // past the reuse of the answer that failed the first call
        long before = metrics[RpcDiagnostics.ClientServerChecks];
        watch.Restart();
        var many = Enumerable.Range(0, 10).Select(_ => shop.WaitAsync(10)).ToArray();
        foreach (var call in many)
        {
            var unavailable = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => call);
            Assert.True(unavailable.QueueExists);
            Assert.Contains($"queue '{broker.QueueName("shop")}' exists but no server consumes it", unavailable.Message);
        }

        _output.WriteLine($"ten unsent calls failed after {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.InRange(metrics[RpcDiagnostics.ClientServerChecks] - before, 1, 3);
        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")));
    }

    [Fact]
    public async Task Calls_answered_in_time_never_ask_the_broker()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        var rpc = await broker.ConnectAsync();
        var shop = rpc.CreateClient<IShop>();
        using var metrics = new RpcMetrics(broker.QueueName("shop"));
        for (int i = 0; i < 200; i++) Assert.Equal(1, await shop.ReserveAsync("apple", 1));
        Assert.Equal(0, metrics[RpcDiagnostics.ClientServerChecks]);
    }

    [Fact]
    public async Task A_call_that_waits_for_ready_is_served_by_a_server_that_starts_later()
    {
        await using var broker = new TestBroker();
        var first = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await first.DisposeAsync();
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        Task<int> waiting;
        using (RpcCallOptions.WithWaitForReady())
        {
            waiting = shop.ReserveAsync("apple", 2);
        }

        await Task.Delay(2000); // past the check delay: a fail-fast call would have failed by now
        Assert.False(waiting.IsCompleted);
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        Assert.Equal(2, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitForReady_on_the_connection_makes_every_call_wait()
    {
        await using var broker = new TestBroker();
        var first = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await first.DisposeAsync();
        var shop = (await broker.ConnectAsync(o => o.Client.WaitForReady = true)).CreateClient<IShop>();

        // Its own timeout (400 ms) ends it, not a check.
        await Assert.ThrowsAsync<RpcTimeoutException>(() => shop.HoldAsync(1));
        var waiting = shop.ReserveAsync("apple", 1);
        await Task.Delay(1500);
        Assert.False(waiting.IsCompleted);
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        Assert.Equal(1, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
