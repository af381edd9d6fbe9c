using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>
/// <see cref="RpcServiceUnavailableException"/> is the one failure a caller may retry without asking whether the first
/// try ran: it is thrown only when the request provably never runs. A request left in a queue nobody consumes may run
/// once a server starts, so that call ends with <see cref="RpcRequestQueuedException"/> instead.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class UnavailableMeansNotRunTests
{
    private readonly ITestOutputHelper _output;

    public UnavailableMeansNotRunTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_call_that_failed_as_unavailable_never_runs_when_a_server_starts_later()
    {
        await using var broker = new TestBroker();
        var first = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await first.DisposeAsync(); // the durable queue stays, with no consumer
        var rpc = await broker.ConnectAsync(); // the default 30 s timeout: the request's expiration
        var shop = rpc.CreateClient<IShop>();

        var failures = new List<Exception>();
        for (int i = 0; i < 3; i++)
        {
            int id = 10 + i;
            var e = await Record.ExceptionAsync(() => shop.WaitAsync(id));
            Assert.NotNull(e);
            _output.WriteLine($"call {i}: {e!.GetType().Name}: {e.Message}");
            failures.Add(e);
        }

        // A server starts well within the requests' 30 s expiration and takes whatever waits in the queue.
        var later = new RecordingShop();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), later);
        await Wait.UntilAsync(async () => await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")) == 0, "the queue drained");
        await Task.Delay(500);
        _output.WriteLine($"calls that ran on the later server: {string.Join(", ", later.Ran.Order())}");

        // A call that failed as unavailable never ran; every other failure says the request may still run.
        for (int i = 0; i < failures.Count; i++)
        {
            if (failures[i] is RpcServiceUnavailableException) Assert.DoesNotContain(10 + i, later.Ran);
            else Assert.IsType<RpcRequestQueuedException>(failures[i]);
        }

        Assert.Contains(failures, f => f is RpcServiceUnavailableException);
    }

    [Fact]
    public async Task A_request_left_in_a_queue_without_consumers_fails_with_RpcRequestQueuedException_naming_service_method_and_queue()
    {
        await using var broker = new TestBroker();
        var first = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await first.DisposeAsync();
        var rpc = await broker.ConnectAsync();
        var shop = rpc.CreateClient<IShop>();

        var queued = await Assert.ThrowsAsync<RpcRequestQueuedException>(() => shop.WaitAsync(10));
        Assert.Equal("Shop", queued.Service);
        Assert.Equal("Wait", queued.Method);
        Assert.Equal(broker.QueueName("shop"), queued.Queue);
        Assert.Contains("may still run", queued.Message);
        Assert.Contains($"'{broker.QueueName("shop")}'", queued.Message);
        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")));

        // The next call learns from the broker, before publishing, that nobody consumes the queue: not published.
        var unavailable = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => shop.WaitAsync(10));
        Assert.True(unavailable.QueueExists);
        Assert.Contains("was not sent", unavailable.Message);
        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")));
        Assert.Equal(0, rpc.PendingCallCount);

        // Once a server consumes the queue again, calls go out as before.
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await Wait.UntilAsync(async () => await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")) == 0, "the queue drained");
        Assert.Equal(3, await shop.ReserveAsync("apple", 3).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private sealed class RecordingShop : Shop
    {
        public System.Collections.Concurrent.ConcurrentBag<int> Ran { get; } = new();

        public override Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Ran.Add(milliseconds);
            return base.WaitAsync(milliseconds, cancellationToken);
        }
    }
}
