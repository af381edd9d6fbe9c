using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.PostgreSql.TestApp;

namespace RpcGen.PostgreSql.Tests.Infrastructure;

/// <summary>A subscriber's record of every OrderPlaced it got, duplicates included, with the message id it came with.</summary>
public sealed class OrderLog : IOrderEvents
{
    private readonly ConcurrentQueue<(long OrderId, string? MessageId)> _received = new();

    public IReadOnlyList<(long OrderId, string? MessageId)> Received => _received.ToArray();

    public int Count => _received.Count;

    public Task OrderPlacedAsync(OrderPlaced order)
    {
        _received.Enqueue((order.OrderId, RpcContext.Current?.MessageId));
        return Task.CompletedTask;
    }

    /// <summary>Subscribes to every OrderPlaced of this test's exchange on a queue of its own.</summary>
    public static async Task<OrderLog> SubscribeAsync(RpcConnection connection, TestBroker broker)
    {
        var log = new OrderLog();
        broker.Exchange("outbox.orders");
        var queue = "orders-log";
        broker.Track(broker.QueueName(queue));
        // One at a time: the log records the order the queue delivers in (a prefetch above 1 runs handlers side by side).
        var subscription = new RpcSubscription { Queue = queue, Prefetch = 1 };
        subscription.Bindings.Add("#");
        await connection.SubscribeAsync<IOrderEvents>(log, subscription);
        return log;
    }
}
