using System.Collections.Concurrent;
using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Reliability;
using RpcGen.IntegrationTests.Shapes.Events;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A raw RabbitMQ.Client peer sets the headers only a server sets on its own retry and dead-letter copies
/// (rpc-routing-key, rpc-exchange, rpc-retries, rpc-replays): none of them is believed from anyone but the server.
/// </summary>
public sealed class ServerHeaderTrustTests
{
    [Fact]
    public async Task A_forged_routing_key_header_never_reaches_the_handler_neither_first_nor_on_its_retry()
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("orders");
        var rpc = await broker.ConnectAsync(o => o.Server.RetryBackoff = TimeSpan.Zero);
        var recorder = new FailOnceRecorder();
        await using var subscriber = await rpc.SubscribeAsync<IOrderEvents>(recorder, new RpcSubscription { Queue = "forged-keys", Bindings = { "order.*.eu" } });
        broker.Track(broker.QueueName("forged-keys"));
        await using var raw = await RawAmqp.ConnectAsync();

        // The caller's own routing key gets it past the binding; the header claims a key an authorising handler trusts more.
        var forged = new BasicProperties
        {
            Type = "OrderPlaced",
            Headers = new Dictionary<string, object?> { ["rpc-routing-key"] = "order.1.admin", ["rpc-exchange"] = "admin-orders" },
        };
        await raw.Channel.BasicPublishAsync(exchange, "order.7.eu", mandatory: true, forged,
            Encoding.UTF8.GetBytes("""{"Id":7,"Item":"book"}"""));

        await Wait.UntilAsync(() => recorder.Regions.Count == 2, "the event ran, failed and ran again", seconds: 20);
        Assert.Equal(new[] { "order.7.eu", "order.7.eu" }, recorder.Regions);
        // Counted once the copy's confirm is back, which can be after the copy already ran.
        await Wait.UntilAsync(() => subscriber.Retried == 1, $"the retry was counted (retried: {subscriber.Retried})");
    }

    [Fact]
    public async Task A_forged_retry_count_does_not_dead_letter_work_before_its_retries()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 3;
            o.Server.RetryBackoff = TimeSpan.Zero;
        });
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);
        await using var raw = await RawAmqp.ConnectAsync();

        // Fails once, then succeeds: with its retries believed at 1,000 it would be dead-lettered after the first run.
        var forged = new BasicProperties
        {
            Type = "Flaky",
            Headers = new Dictionary<string, object?> { ["rpc-retries"] = 1000, ["rpc-replays"] = 5 },
        };
        await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: true, forged, Encoding.UTF8.GetBytes("""{"id":3,"failures":1}"""));

        await Wait.UntilAsync(() => work.RunsOf("Flaky").Count() == 2 || server.DeadLettered > 0, "the work ran again or was dead-lettered", seconds: 20);
        Assert.Equal(0, server.DeadLettered);
        Assert.Equal(new[] { false, true }, work.RunsOf("Flaky").Select(r => r.Context.Redelivered));
        // Counted once the copy's confirm is back, which can be after the copy already ran.
        await Wait.UntilAsync(() => server.Retried == 1, $"the retry was counted (retried: {server.Retried})");
    }

    /// <summary>Records the routing key each delivery of OrderPlaced sees; the first delivery of each order fails.</summary>
    private sealed class FailOnceRecorder : IOrderEvents
    {
        private readonly ConcurrentDictionary<int, int> _seen = new();

        public ConcurrentQueue<string> Regions { get; } = new();

        public Task OrderPlacedAsync(string region, OrderPlaced order, CancellationToken cancellationToken = default)
        {
            Regions.Enqueue(region);
            return _seen.AddOrUpdate(order.Id, 1, (_, n) => n + 1) == 1 ? throw new InvalidOperationException($"order {order.Id} fails once") : Task.CompletedTask;
        }

        public ValueTask OrderCancelledAsync(int id) => ValueTask.CompletedTask;
    }
}
