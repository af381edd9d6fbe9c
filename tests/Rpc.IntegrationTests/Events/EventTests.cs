using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Events;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Events;

/// <summary>[RpcEvents]: publishers, subscription groups, exclusive subscriptions, topic rules, failures, no subscriber.</summary>
public sealed class EventTests
{
    private readonly ITestOutputHelper _output;

    public EventTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Two_groups_each_receive_every_event_while_two_instances_inside_one_group_split_them()
    {
        const int count = 10_000;
        await using var broker = new TestBroker();
        broker.Exchange("orders");
        var publisherConnection = await broker.ConnectAsync();
        var billing1 = new OrderRecorder();
        var billing2 = new OrderRecorder();
        var audit = new OrderRecorder();
        var subscriptions = new List<RpcSubscriber>
        {
            await (await broker.ConnectAsync()).SubscribeAsync<IOrderEvents>(billing1, Group("billing", "order.#")),
            await (await broker.ConnectAsync()).SubscribeAsync<IOrderEvents>(billing2, Group("billing", "order.#")),
            await (await broker.ConnectAsync()).SubscribeAsync<IOrderEvents>(audit, Group("audit", "#")),
        };
        broker.Track(broker.QueueName("billing"));
        broker.Track(broker.QueueName("audit"));

        var publisher = publisherConnection.CreatePublisher<IOrderEvents>();
        var watch = Stopwatch.StartNew();
        for (int batch = 0; batch < count; batch += 250)
        {
            await Task.WhenAll(Enumerable.Range(batch, 250).Select(id => publisher.OrderPlacedAsync("order." + id % 7 + ".eu", new OrderPlaced(id, "item"))));
        }

        var published = watch.Elapsed;
        await Wait.UntilAsync(() => billing1.Ids.Count + billing2.Ids.Count >= count && audit.Ids.Count >= count,
            $"billing {billing1.Ids.Count}+{billing2.Ids.Count}, audit {audit.Ids.Count} of {count}", seconds: 120);
        var handled = watch.Elapsed;
        await Task.Delay(300);

        var billing = billing1.Ids.Concat(billing2.Ids).ToList();
        Assert.Equal(count, billing.Count);                              // each once per group
        Assert.Equal(Enumerable.Range(0, count), billing.Order());
        Assert.Equal(Enumerable.Range(0, count), audit.Ids.Order());
        Assert.True(billing1.Ids.Count > 0 && billing2.Ids.Count > 0, $"the group split {billing1.Ids.Count}/{billing2.Ids.Count}");
        _output.WriteLine($"{count} events published (confirmed, 250 in flight) in {published.TotalSeconds:0.0} s, all handled by both groups after " +
            $"{handled.TotalSeconds:0.0} s; billing split {billing1.Ids.Count}/{billing2.Ids.Count}, audit {audit.Ids.Count}");
        foreach (var subscription in subscriptions) await subscription.DisposeAsync();
    }

    [Fact]
    public async Task Topic_bindings_match_as_RabbitMQ_says_star_is_one_word_and_hash_is_zero_or_more()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        broker.Exchange("topic_logs");
        var patterns = new[] { "lqz.*", "lqz.#", "*.orange.*", "*.*.rabbit", "lazy.#", "#" };
        var keys = new[] { "lqz", "lqz.a", "lqz.a.b", "quick.orange.rabbit", "lazy", "lazy.orange.elephant", "quick.orange.fox", "a.b.c.rabbit", "orange" };
        var recorders = new Dictionary<string, KeyRecorder>();
        foreach (var pattern in patterns)
        {
            recorders[pattern] = new KeyRecorder();
            await rpc.SubscribeAsync<ITopicLogs>(recorders[pattern], new RpcSubscription { Bindings = { pattern } });
        }

        var publisher = rpc.CreatePublisher<ITopicLogs>();
        foreach (var key in keys) await publisher.LogAsync(key, "m");

        var expected = new Dictionary<string, string[]>
        {
            ["lqz.*"] = ["lqz.a"],
            ["lqz.#"] = ["lqz", "lqz.a", "lqz.a.b"],
            ["*.orange.*"] = ["lazy.orange.elephant", "quick.orange.fox", "quick.orange.rabbit"],
            ["*.*.rabbit"] = ["quick.orange.rabbit"],
            ["lazy.#"] = ["lazy", "lazy.orange.elephant"],
            ["#"] = keys,
        };
        await Wait.UntilAsync(() => patterns.All(p => recorders[p].Keys.Count >= expected[p].Length), "every pattern got its events");
        await Task.Delay(300);
        foreach (var pattern in patterns) Assert.Equal(expected[pattern].Order(), recorders[pattern].Keys.Order());
    }

    [Fact]
    public async Task A_handler_that_keeps_failing_gets_the_event_again_with_its_routing_key_then_it_is_dead_lettered()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.RetryLimit = 2);
        var exchange = broker.Exchange("topic_logs");
        var failing = new KeyRecorder { Fail = true };
        await using var subscriber = await rpc.SubscribeAsync<ITopicLogs>(failing, Group("failing", "audit.*"));
        broker.Track(subscriber.Queue);

        await rpc.CreatePublisher<ITopicLogs>().LogAsync("audit.login", "alice");

        await Wait.UntilAsync(() => subscriber.DeadLettered == 1, "dead-lettered");
        Assert.Equal(new[] { "audit.login", "audit.login", "audit.login" }, failing.Keys);
        Assert.Equal(new[] { false, true, true }, failing.Redelivered);
        Assert.Equal(broker.QueueName("failing") + ".dead-letter", subscriber.DeadLetterQueue);
        await using var raw = await RawAmqp.ConnectAsync();
        var dead = await raw.Channel.BasicGetAsync(subscriber.DeadLetterQueue, autoAck: true);
        Assert.NotNull(dead);
        Assert.Equal("audit.login", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["rpc-routing-key"]!));
        Assert.Equal(exchange, Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["rpc-exchange"]!));
        await Task.Delay(300);
        Assert.Equal(3, failing.Keys.Count);
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(subscriber.Queue));
    }

    [Fact]
    public async Task An_event_nobody_subscribed_to_is_dropped_quietly_by_default_and_fails_when_asked_to()
    {
        await using var broker = new TestBroker();
        broker.Exchange("logs");
        broker.Exchange("direct_logs");
        var lenient = await broker.ConnectAsync();
        await lenient.CreatePublisher<ILogs>().LogAsync("nobody listens");   // completes: AMQP says this is fine

        var strict = await broker.ConnectAsync(o => o.Client.FailUnroutableEvents = true);
        var e = await Assert.ThrowsAsync<RpcUnroutableEventException>(() => strict.CreatePublisher<IDirectLogs>().LogAsync("error", "nobody listens"));
        Assert.Equal(broker.Prefix + "direct_logs", e.Exchange);
        Assert.Equal("error", e.RoutingKey);
        Assert.Contains("DirectLogs.Log", e.Message);
    }

    [Fact]
    public async Task A_named_subscription_keeps_events_while_no_member_runs_and_an_exclusive_one_is_gone_with_it()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        broker.Exchange("orders");
        var publisher = rpc.CreatePublisher<IOrderEvents>();
        broker.Track(broker.QueueName("late"));
        var first = new OrderRecorder();
        var named = await rpc.SubscribeAsync<IOrderEvents>(first, Group("late", "order.*.eu"));
        var exclusive = await rpc.SubscribeAsync<IOrderEvents>(new OrderRecorder(), new RpcSubscription());
        var exclusiveQueue = exclusive.Queue;
        await named.DisposeAsync();
        await exclusive.DisposeAsync();

        for (int i = 0; i < 5; i++) await publisher.OrderPlacedAsync("order.1.eu", new OrderPlaced(i, "waiting"));
        await publisher.OrderCancelledAsync(99);   // routed by its wire name: not bound by "order.*.eu"

        var late = new OrderRecorder();
        await using var again = await rpc.SubscribeAsync<IOrderEvents>(late, Group("late", "order.*.eu"));
        await Wait.UntilAsync(() => late.Ids.Count >= 5, $"{late.Ids.Count} of 5 waiting events");
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, late.Ids.Order());
        Assert.Empty(late.Cancelled);
        Assert.Equal(new[] { "order.1.eu" }, late.Regions.Distinct());

        await using var raw = await RawAmqp.ConnectAsync();
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => raw.Channel.QueueDeclarePassiveAsync(exclusiveQueue));
        Assert.Contains("NOT_FOUND", gone.Message);
    }

    [Fact]
    public async Task Events_are_persistent_confirmed_and_carry_type_content_type_message_id_and_a_JSON_body()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await using var raw = await RawAmqp.ConnectAsync();
        var exchange = broker.Exchange("orders");
        await raw.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true);
        var queue = (await raw.Channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        await raw.Channel.QueueBindAsync(queue, exchange, "#");

        await rpc.CreatePublisher<IOrderEvents>().OrderPlacedAsync("order.7.eu", new OrderPlaced(7, "book"));
        await rpc.CreatePublisher<IOrderEvents>().OrderCancelledAsync(7);

        var placed = await raw.Channel.BasicGetAsync(queue, autoAck: true);
        var cancelled = await raw.Channel.BasicGetAsync(queue, autoAck: true);
        Assert.Equal(exchange, placed!.Exchange);
        Assert.Equal("order.7.eu", placed.RoutingKey);
        Assert.Equal("OrderPlaced", placed.BasicProperties.Type);
        Assert.Equal("application/json", placed.BasicProperties.ContentType);
        Assert.True(placed.BasicProperties.Persistent);
        Assert.False(string.IsNullOrEmpty(placed.BasicProperties.MessageId));
        Assert.Null(placed.BasicProperties.ReplyTo);
        Assert.Equal("""{"Id":7,"Item":"book"}""", Encoding.UTF8.GetString(placed.Body.Span));   // one body parameter: its JSON value
        Assert.Equal("order-cancelled", cancelled!.RoutingKey);                               // no [RpcRoutingKey]: the wire name
        Assert.Equal("7", Encoding.UTF8.GetString(cancelled.Body.Span));
        Assert.NotEqual(placed.BasicProperties.MessageId, cancelled.BasicProperties.MessageId);
    }

    [Fact]
    public async Task An_events_interface_is_not_a_service_and_a_service_is_not_an_events_interface()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        Assert.Contains("CreatePublisher", Assert.Throws<InvalidOperationException>(() => rpc.CreateClient<ILogs>()).Message);
        Assert.Contains("SubscribeAsync", (await Assert.ThrowsAsync<InvalidOperationException>(() => rpc.ServeAsync<ILogs>(new KeyRecorder()))).Message);
        Assert.Contains("not [RpcEvents]", Assert.Throws<InvalidOperationException>(() => rpc.CreatePublisher<ICalculator>()).Message);
    }

    private static RpcSubscription Group(string queue, string binding) => new() { Queue = queue, Bindings = { binding } };

    private sealed class OrderRecorder : IOrderEvents
    {
        public ConcurrentQueue<int> Ids { get; } = new();
        public ConcurrentQueue<string> Regions { get; } = new();
        public ConcurrentQueue<int> Cancelled { get; } = new();

        public Task OrderPlacedAsync(string region, OrderPlaced order, CancellationToken cancellationToken = default)
        {
            Regions.Enqueue(region);
            Ids.Enqueue(order.Id);
            return Task.CompletedTask;
        }

        public ValueTask OrderCancelledAsync(int id)
        {
            Cancelled.Enqueue(id);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class KeyRecorder : ITopicLogs, ILogs
    {
        private readonly List<string> _keys = new();
        private readonly List<bool> _redelivered = new();

        public bool Fail { get; init; }

        public List<string> Keys
        {
            get { lock (_keys) return _keys.ToList(); }
        }

        public List<bool> Redelivered
        {
            get { lock (_keys) return _redelivered.ToList(); }
        }

        public Task LogAsync(string key, string message)
        {
            lock (_keys)
            {
                _keys.Add(key);
                _redelivered.Add(RpcContext.Current!.Redelivered);
            }

            return Fail ? throw new InvalidOperationException("always fails") : Task.CompletedTask;
        }

        public Task LogAsync(string message) => LogAsync("", message);
    }
}
