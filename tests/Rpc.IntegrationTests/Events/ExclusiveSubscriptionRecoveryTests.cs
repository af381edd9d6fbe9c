using System.Collections.Concurrent;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Events;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Events;

/// <summary>
/// A subscription with an empty Queue across a lost connection: the broker deletes its exclusive server-named queue with
/// the connection, RabbitMQ.Client's recovery declares a fresh one, binds it and moves the consumer, and the subscriber
/// must follow the new name (retries, Queue, the delete on stop). The connection runs through a proxy the test drops.
/// </summary>
public sealed class ExclusiveSubscriptionRecoveryTests
{
    private const int FailsOnce = 1000;
    private readonly ITestOutputHelper _output;

    public ExclusiveSubscriptionRecoveryTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task An_exclusive_subscription_gets_a_fresh_queue_after_connection_recovery_and_events_and_retries_flow_again()
    {
        await using var broker = new TestBroker();
        broker.Exchange("orders");
        broker.Track(broker.QueueName("orders.dead-letter"));
        await using var proxy = new TcpProxy(TestBroker.Uri);
        await using var subscriberConnection = await RpcConnection.ConnectAsync(broker.Options(o => o.Uri = proxy.Through(TestBroker.Uri)));
        var publisher = (await broker.ConnectAsync()).CreatePublisher<IOrderEvents>();
        var recorder = new Recorder();
        var subscriber = await subscriberConnection.SubscribeAsync<IOrderEvents>(recorder, new RpcSubscription { Bindings = { "order.#" } });
        var before = subscriber.Queue;
        Assert.StartsWith("amq.gen-", before);

        for (int i = 0; i < 10; i++) await publisher.OrderPlacedAsync("order.eu", new OrderPlaced(i, "before"));
        await Wait.UntilAsync(() => recorder.Handled.Count == 10, $"{recorder.Handled.Count} of 10 before the drop");

        proxy.DropConnections();
        await Wait.UntilAsync(() => subscriber.Queue != before, "the subscriber still names its first queue after the drop", seconds: 30);
        var after = subscriber.Queue;
        Assert.StartsWith("amq.gen-", after);

        // Bindings and consumer come back after the new name: publish probes until one arrives, then the real ones.
        int probe = 500;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!recorder.Handled.Any(id => id >= 500 && id < FailsOnce))
        {
            Assert.True(DateTime.UtcNow < deadline, "no event reached the subscriber within 30 s of the recovery");
            await publisher.OrderPlacedAsync("order.eu", new OrderPlaced(probe++, "probe"));
            await Task.Delay(100);
        }

        for (int i = 100; i < 200; i++) await publisher.OrderPlacedAsync("order.eu", new OrderPlaced(i, "after"));
        await publisher.OrderPlacedAsync("order.eu", new OrderPlaced(FailsOnce, "fails once"));
        await Wait.UntilAsync(() => recorder.Handled.Count(id => id is >= 100 and < 200) == 100 && recorder.Handled.Contains(FailsOnce),
            $"{recorder.Handled.Count(id => id is >= 100 and < 200)} of 100 after the recovery, retried one handled: {recorder.Handled.Contains(FailsOnce)}", seconds: 30);
        await Task.Delay(300);

        Assert.Equal(Enumerable.Range(100, 100), recorder.Handled.Where(id => id is >= 100 and < 200).Order());   // each once
        Assert.Equal(2, recorder.Runs.Count(id => id == FailsOnce));   // its retry went to the new queue, not to the dead one
        Assert.Equal(1, subscriber.Retried);
        Assert.Equal(0, subscriber.DeadLettered);

        // The broker deletes the first queue once it has closed the old connection; the new one exists, exclusive to the
        // subscriber's connection, so another connection's passive declare is refused with 405 RESOURCE_LOCKED.
        await Wait.UntilAsync(async () => await PassiveDeclareCodeAsync(before) == 404, $"the first queue {before} is still there", seconds: 30);
        Assert.Equal(405, await PassiveDeclareCodeAsync(after));

        // Stopping deletes the queue it consumes now, although its connection stays open.
        await subscriber.DisposeAsync();
        Assert.True(subscriberConnection.IsConnected);
        Assert.Equal(404, await PassiveDeclareCodeAsync(after));

        _output.WriteLine($"queue {before} -> {after}; {probe - 500} probe(s) published until the first arrived; 100 of 100 after, the failing one retried once");
    }

    /// <summary>0 when the queue exists for anyone; else the broker's reply code, which closes the channel (hence a connection each).</summary>
    private static async Task<int> PassiveDeclareCodeAsync(string queue)
    {
        await using var raw = await RawAmqp.ConnectAsync();
        try
        {
            await raw.Channel.QueueDeclarePassiveAsync(queue);
            return 0;
        }
        catch (OperationInterruptedException e)
        {
            return e.ShutdownReason?.ReplyCode ?? -1;
        }
    }

    private sealed class Recorder : IOrderEvents
    {
        public ConcurrentQueue<int> Runs { get; } = new();
        public ConcurrentQueue<int> Handled { get; } = new();

        public Task OrderPlacedAsync(string region, OrderPlaced order, CancellationToken cancellationToken = default)
        {
            Runs.Enqueue(order.Id);
            if (order.Id == FailsOnce && Runs.Count(id => id == FailsOnce) == 1) throw new InvalidOperationException("fails the first time");
            Handled.Enqueue(order.Id);
            return Task.CompletedTask;
        }

        public ValueTask OrderCancelledAsync(int id) => ValueTask.CompletedTask;
    }
}
