using System.Text.RegularExpressions;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// The permissions matrix of docs/security.md, run as least-privilege broker users on the shared node: each role
/// works with exactly its row, and what a caller could break with more (the control exchange, the service queue) it
/// cannot touch.
/// </summary>
public sealed class PermissionsTests
{
    private readonly ITestOutputHelper _output;

    public PermissionsTests(ITestOutputHelper output) => _output = output;

    /// <summary>docs/security.md, "Permissions": the server row for one service queue (<paramref name="queue"/>, regex-escaped).</summary>
    private static Task<(string Name, Uri Uri)> AddServerAsync(BrokerUsers users, string queue) => users.AddAsync("server",
        configure: $"^({queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|rpc-batch\\.{queue}|amq\\.gen-.*)$",
        write: $"^(amq\\.default|{queue}|{queue}\\.dead-letter|amq\\.gen-.*)$",
        read: $"^({queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|rpc-batch\\.{queue}|amq\\.gen-.*)$");

    [Fact]
    public async Task A_server_whose_row_predates_the_batch_queue_serves_lone_calls_and_its_callers_send_it_no_batches()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var queue = Regex.Escape(broker.QueueName("shop"));
        // The server row of 1.0, without rpc-batch.{queue}: the broker refuses it the batch queue (log 3043).
        var (_, serverUri) = await users.AddAsync("server",
            configure: $"^({queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|amq\\.gen-.*)$",
            write: $"^(amq\\.default|{queue}|{queue}\\.dead-letter|amq\\.gen-.*)$",
            read: $"^({queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|amq\\.gen-.*)$");
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Uri = serverUri), new StartedShop());
        var caller = await broker.ConnectAsync();
        var client = caller.CreateClient<IShop>();

        Assert.False(await caller.Invoker.CheckBatchReadersAsync(ShopRpcDescriptor.Service));
        using var metrics = new RpcMetrics(server.Queue);
        Task<int>[] calls;
        using (caller.Invoker.HoldBatches(ShopRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 5).Select(_ => client.ReserveAsync("apple", 1)).ToArray();
        }

        Assert.Equal(Enumerable.Repeat(1, 5), await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal((0L, 0L), metrics.BatchesSent);
    }

    [Fact]
    public async Task A_caller_without_configure_rights_calls_and_cancels_and_cannot_touch_the_servers_topology()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var queue = Regex.Escape(broker.QueueName("shop"));
        // docs/security.md, "Permissions": the server row for one service queue, the caller row.
        var (_, serverUri) = await AddServerAsync(users, queue);
        var (_, callerUri) = await users.AddAsync("caller",
            configure: "^$",
            write: "^(amq\\.default|rpc-control\\..*)$",
            read: "^$");

        var shop = new StartedShop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Uri = serverUri), shop);
        using var meter = new ServerMeter(server.Queue);
        var caller = await broker.ConnectAsync(o => o.Uri = callerUri);
        var client = caller.CreateClient<IShop>();

        // Calls work, and a cancel reaches the server (not the call's deadline: the caller-cancels counter counts only cancels).
        Assert.Equal(2, await client.ReserveAsync("apple", 2));
        // The server's row lets it read batches, and the caller learns so with no configure right (a passive declare).
        Assert.True(await caller.Invoker.CheckBatchReadersAsync(ShopRpcDescriptor.Service));
        await CancelOneAsync(client, shop, meter, expectedCancels: 1);

        // What a caller could do with configure rights on the control exchange or the queue is refused.
        var factory = new ConnectionFactory { Uri = callerUri };
        await using var attacker = await factory.CreateConnectionAsync();
        var control = "rpc-control." + server.Queue;
        var attacks = new (string What, Func<IChannel, Task> Act)[]
        {
            ("delete the control exchange", c => c.ExchangeDeleteAsync(control)),
            ("re-declare the control exchange durable", c => c.ExchangeDeclareAsync(control, ExchangeType.Fanout, durable: true, autoDelete: false)),
            ("declare its own exchange", c => c.ExchangeDeclareAsync(broker.QueueName("mine"), ExchangeType.Fanout)),
            ("delete the service queue", c => c.QueueDeleteAsync(server.Queue)),
            ("purge the service queue", c => c.QueuePurgeAsync(server.Queue)),
            ("consume the service queue (steal requests)", c => c.BasicConsumeAsync(server.Queue, autoAck: true, new AsyncDefaultBasicConsumerStub(c))),
            ("consume the batch queue (steal batched calls)", c => c.BasicConsumeAsync("rpc-batch." + server.Queue, autoAck: true, new AsyncDefaultBasicConsumerStub(c))),
            ("delete the batch queue", c => c.QueueDeleteAsync("rpc-batch." + server.Queue)),
            ("bind its own queue to the control exchange (read cancels)", c => c.QueueBindAsync("amq.gen-none", control, "")),
        };
        foreach (var (what, act) in attacks)
        {
            await using var channel = await attacker.CreateChannelAsync();
            var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => act(channel));
            _output.WriteLine($"{what}: {refused.ShutdownReason?.ReplyCode} {refused.ShutdownReason?.ReplyText}");
            Assert.Equal((ushort)403, refused.ShutdownReason?.ReplyCode);
        }

        // The server's topology is intact: it serves, and cancels still reach it.
        Assert.Equal(3, await client.ReserveAsync("apple", 3));
        await CancelOneAsync(client, shop, meter, expectedCancels: 2);
    }

    [Fact]
    public async Task A_server_with_its_own_row_serves_and_cannot_touch_another_services_queue()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var queue = Regex.Escape(broker.QueueName("shop"));
        var (_, serverUri) = await AddServerAsync(users, queue);
        var other = broker.QueueName("other");
        broker.Track(other);
        await using (var guest = await RawAmqp.ConnectAsync()) await guest.Channel.QueueDeclareAsync(other, durable: true, exclusive: false, autoDelete: false);

        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Uri = serverUri), new Shop());
        Assert.Equal(1, await (await broker.ConnectAsync()).CreateClient<IShop>().ReserveAsync("apple", 1));

        await using var connection = await new ConnectionFactory { Uri = serverUri }.CreateConnectionAsync();
        foreach (var act in new Func<IChannel, Task>[] { c => c.QueueDeleteAsync(other), c => c.QueuePurgeAsync(other), c => c.ExchangeDeleteAsync("rpc-control." + other) })
        {
            await using var channel = await connection.CreateChannelAsync();
            var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => act(channel));
            Assert.Equal((ushort)403, refused.ShutdownReason?.ReplyCode);
        }

        Assert.True(server.IsConsuming);
    }

    [Fact]
    public async Task A_subscriber_and_a_publisher_without_configure_rights_on_the_exchange_exchange_events_and_cannot_touch_each_others_resources()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var exchange = Regex.Escape(broker.Exchange("orders"));
        var queue = Regex.Escape(broker.QueueName("billing"));
        broker.Track(broker.QueueName("billing"));
        // docs/security.md: the operator declares the events exchange; a subscriber is a server of its queue that
        // binds it to the exchange (read on it), the publisher only writes to it. Neither may configure the exchange.
        await using (var operatorPeer = await RawAmqp.ConnectAsync())
        {
            await operatorPeer.Channel.ExchangeDeclareAsync(broker.Prefix + "orders", ExchangeType.Topic, durable: true, autoDelete: false);
        }

        var (_, subscriberUri) = await users.AddAsync("subscriber",
            configure: $"^({queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|rpc-batch\\.{queue}|amq\\.gen-.*)$",
            write: $"^(amq\\.default|{queue}|{queue}\\.dead-letter|amq\\.gen-.*)$",
            read: $"^({exchange}|{queue}|{queue}\\.dead-letter|rpc-control\\.{queue}|rpc-batch\\.{queue}|amq\\.gen-.*)$");
        var (_, publisherUri) = await users.AddAsync("publisher", configure: "^$", write: $"^{exchange}$", read: "^$");

        var received = new System.Collections.Concurrent.ConcurrentQueue<int>();
        await using var subscription = await (await broker.ConnectAsync(o => o.Uri = subscriberUri))
            .SubscribeAsync<Shapes.Events.IOrderEvents>(new OrderSink(received), new RpcSubscription { Queue = "billing", Bindings = { "order.#" } });
        var publisher = (await broker.ConnectAsync(o => o.Uri = publisherUri)).CreatePublisher<Shapes.Events.IOrderEvents>();
        await publisher.OrderPlacedAsync("order.eu", new Shapes.Events.OrderPlaced(7, "item"));
        await Wait.UntilAsync(() => received.Contains(7), "the event reached the subscriber");

        await using var asPublisher = await new ConnectionFactory { Uri = publisherUri }.CreateConnectionAsync();
        await using var asSubscriber = await new ConnectionFactory { Uri = subscriberUri }.CreateConnectionAsync();
        var attacks = new (string What, IConnection As, Func<IChannel, Task> Act)[]
        {
            ("publisher deletes the exchange", asPublisher, c => c.ExchangeDeleteAsync(broker.Prefix + "orders")),
            ("publisher deletes the subscriber's queue", asPublisher, c => c.QueueDeleteAsync(broker.QueueName("billing"))),
            ("publisher declares a queue to bind and read events", asPublisher, c => c.QueueDeclareAsync(broker.QueueName("spy"), false, false, true)),
            ("publisher consumes the subscriber's queue", asPublisher, c => c.BasicConsumeAsync(broker.QueueName("billing"), true, new AsyncDefaultBasicConsumerStub(c))),
            ("subscriber deletes the exchange", asSubscriber, c => c.ExchangeDeleteAsync(broker.Prefix + "orders")),
            ("subscriber forges an event", asSubscriber, async c =>
            {
                await c.BasicPublishAsync(broker.Prefix + "orders", "order.eu", mandatory: false, new BasicProperties(), "{}"u8.ToArray());
                for (int i = 0; i < 200 && c.IsOpen; i++) await Task.Delay(10);
                throw new OperationInterruptedException(c.CloseReason!);
            }),
        };
        foreach (var (what, connection, act) in attacks)
        {
            await using var channel = await connection.CreateChannelAsync();
            var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => act(channel));
            _output.WriteLine($"{what}: {refused.ShutdownReason?.ReplyCode} {refused.ShutdownReason?.ReplyText}");
            Assert.Equal((ushort)403, refused.ShutdownReason?.ReplyCode);
        }

        await publisher.OrderPlacedAsync("order.eu", new Shapes.Events.OrderPlaced(8, "item"));
        await Wait.UntilAsync(() => received.Contains(8), "events still flow");
    }

    private sealed class OrderSink(System.Collections.Concurrent.ConcurrentQueue<int> received) : Shapes.Events.IOrderEvents
    {
        public Task OrderPlacedAsync(string region, Shapes.Events.OrderPlaced order, CancellationToken cancellationToken = default)
        {
            received.Enqueue(order.Id);
            return Task.CompletedTask;
        }

        public ValueTask OrderCancelledAsync(int id) => ValueTask.CompletedTask;
    }

    private static async Task CancelOneAsync(IShop client, StartedShop shop, ServerMeter meter, long expectedCancels)
    {
        shop.Running = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource();
        var call = client.WaitAsync(4000, cancel.Token);
        await shop.Running.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // Within the call's own 5 s service timeout a handler waiting 4 s would end by itself: only a cancel counts here.
        await Wait.UntilAsync(() => meter.CallerCancels == expectedCancels, $"the caller's cancel reached the server ({meter.CallerCancels} of {expectedCancels})", seconds: 6);
    }

    private sealed class StartedShop : Shop
    {
        public TaskCompletionSource Running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            var task = base.WaitAsync(milliseconds, cancellationToken);
            Running.TrySetResult();
            return task;
        }
    }

    private sealed class AsyncDefaultBasicConsumerStub(IChannel channel) : AsyncDefaultBasicConsumer(channel);
}
