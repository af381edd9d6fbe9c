using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Cli.Tests.Infrastructure;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Samples.Shop;

namespace RpcGen.Cli.Tests;

/// <summary>rpcgen publish, tail and topology apply with the shop's order events.</summary>
public sealed class EventTests : IAsyncLifetime
{
    private const string Order = "{\"OrderId\":\"o-1\",\"Region\":\"eu\",\"Lines\":[{\"Sku\":\"book\",\"Quantity\":2,\"UnitPrice\":12.5}],\"Total\":25,\"PaymentId\":\"pay-001\"}";

    private readonly TestBroker _broker = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();

    private Task<CliResult> Rpcgen(params string[] args) => CliProcess.RunAsync(_broker.Prefix, args);

    [Fact]
    public async Task A_published_event_reaches_an_RpcGen_subscriber_with_its_routing_key()
    {
        var inbox = new OrderInbox();
        var connection = await _broker.ConnectAsync();
        _broker.Exchange("shop.orders");
        _broker.Track(_broker.QueueName("logistics"));
        await using var subscriber = await connection.SubscribeAsync<IOrderEvents>(inbox, new RpcSubscription { Queue = "logistics", Bindings = { "order.placed.eu" } });

        var published = await Rpcgen("publish", "OrderEvents.OrderPlaced", Order, "--routing-key", "order.placed.eu");
        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.Contains($"published OrderEvents.OrderPlaced to exchange '{_broker.Prefix}shop.orders' with routing key 'order.placed.eu' (persistent, confirmed).", published.Stdout);
        await Wait.UntilAsync(() => inbox.Received.Count == 1, "the subscriber to get the event");
        var (key, order) = Assert.Single(inbox.Received);
        Assert.Equal("order.placed.eu", key);
        Assert.Equal(new OrderLine("book", 2, 12.5m), Assert.Single(order.Lines));

        var unbound = await Rpcgen("publish", "OrderEvents.OrderPlaced", Order, "-k", "order.placed.mars");
        Assert.True(unbound.ExitCode == 0, unbound.ToString());
        Assert.Contains("no queue is bound for it, so nobody got it", unbound.Stdout);
    }

    [Fact]
    public async Task Tail_prints_the_events_its_binding_matches_and_leaves_no_queue_behind()
    {
        var exchange = _broker.Exchange("shop.orders");
        var applied = await Rpcgen("topology", "apply");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        _broker.Track(_broker.QueueName("shop.stock"));
        _broker.Track(_broker.QueueName("shop.payments"));
        _broker.Track(_broker.QueueName("Fibonacci"));
        _broker.Track(_broker.QueueName("FibonacciSequence"));

        using var tail = CliProcess.Start(_broker.Prefix, "tail", "OrderEvents", "--bind", "order.placed.eu", "--count", "1");
        await Wait.UntilAsync(() => tail.Stderr.Contains("tailing exchange"), "tail to bind its queue", 30);
        Assert.Equal(0, (await Rpcgen("publish", "OrderEvents.OrderPlaced", Order.Replace("o-1", "o-us"), "-k", "order.placed.us")).ExitCode);
        Assert.Equal(0, (await Rpcgen("publish", "OrderEvents.OrderPlaced", Order, "-k", "order.placed.eu")).ExitCode);
        Assert.Equal(0, await tail.WaitAsync());
        Assert.StartsWith("order.placed.eu OrderPlaced {\"OrderId\":\"o-1\"", tail.Stdout);
        Assert.DoesNotContain("o-us", tail.Stdout);

        var queue = tail.Stderr.Split("temporary queue ")[1].Split(' ', ')', '\n')[0].Trim();
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        var gone = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync(queue));
        Assert.Equal(404, gone.ShutdownReason!.ReplyCode);
        Assert.Contains(exchange, tail.Stderr);
    }

    [Fact]
    public async Task Topology_apply_creates_a_subscriber_queue_before_the_first_event()
    {
        var dryRun = await Rpcgen("topology", "apply", "--dry-run", "--subscription", "notifications=OrderEvents:order.#");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains($"would declare queue {_broker.Prefix}notifications (durable, classic) bound to {_broker.Prefix}shop.orders with order.#", dryRun.Stdout);
        Assert.Contains($"would declare queue {_broker.Prefix}shop.stock.dead-letter (durable)", dryRun.Stdout);
        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync())
        {
            await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync(_broker.QueueName("notifications")));
        }

        _broker.Exchange("shop.orders");
        foreach (var queue in new[] { "notifications", "shop.stock", "shop.payments", "Fibonacci", "FibonacciSequence" }) _broker.Track(_broker.QueueName(queue));
        var applied = await Rpcgen("topology", "apply", "--subscription", "notifications=OrderEvents:order.#");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains("7 declarations applied", applied.Stdout);

        // Published before any subscriber ever ran: the queue holds it, and the first subscriber gets it.
        Assert.Equal(0, (await Rpcgen("publish", "OrderEvents.OrderPlaced", Order, "-k", "order.placed.asia")).ExitCode);
        var inbox = new OrderInbox();
        var connection = await _broker.ConnectAsync();
        await using var subscriber = await connection.SubscribeAsync<IOrderEvents>(inbox, new RpcSubscription { Queue = "notifications", Bindings = { "order.#" } });
        await Wait.UntilAsync(() => inbox.Received.Count == 1, "the late subscriber to get the earlier event");
        Assert.Equal("order.placed.asia", Assert.Single(inbox.Received).RoutingKey);
    }
}
