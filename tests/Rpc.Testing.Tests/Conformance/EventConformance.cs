using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>
/// Events by exchange type and routing key, subscription groups, unroutable events. The subscriptions take one event at a
/// time (prefetch 1): only then is the order of handling the queue's order, on both transports.
/// </summary>
public abstract class EventConformance : ConformanceTest
{
    [Fact]
    public async Task A_topic_subscription_gets_the_events_its_patterns_match_and_no_others()
    {
        Exchange("conformance.topic");
        Queue("conformance.topic-eu");
        var connection = await Transport.ConnectAsync();
        var log = new EventLog();
        var subscription = new RpcSubscription { Prefetch = 1, Queue = "conformance.topic-eu", Bindings = { "order.*.eu", "audit.#" } };
        await using var subscriber = await connection.SubscribeAsync<ITopicEvents>(log, subscription);
        var publisher = connection.CreatePublisher<ITopicEvents>();

        await publisher.HappenedAsync("order.placed.eu", "placed-eu");
        await publisher.HappenedAsync("order.placed.us", "placed-us");
        await publisher.HappenedAsync("audit", "audit-root");
        await publisher.HappenedAsync("audit.a.b", "audit-deep");
        await publisher.HappenedAsync("order.placed.eu.extra", "too-long");
        await publisher.HappenedAsync("order.done.eu", "done-eu");

        await Wait.UntilAsync(() => log.Seen.Count >= 4, "four matching events");
        // A subscriber that is not ordered handles up to its prefetch at once: the set is promised, not the order.
        Assert.Equal(["placed-eu", "audit-root", "audit-deep", "done-eu"], log.Seen);
    }

    [Fact]
    public async Task Every_fanout_subscription_group_gets_every_event()
    {
        Exchange("conformance.fanout");
        Queue("conformance.fan-a");
        Queue("conformance.fan-b");
        var connection = await Transport.ConnectAsync();
        var a = new EventLog();
        var b = new EventLog();
        await using var first = await connection.SubscribeAsync<IFanoutEvents>(a, new RpcSubscription { Prefetch = 1, Queue = "conformance.fan-a" });
        await using var second = await connection.SubscribeAsync<IFanoutEvents>(b, new RpcSubscription { Prefetch = 1, Queue = "conformance.fan-b" });
        var publisher = connection.CreatePublisher<IFanoutEvents>();
        await publisher.HappenedAsync("one");
        await publisher.HappenedAsync("two");

        await Wait.UntilAsync(() => a.Seen.Count == 2 && b.Seen.Count == 2, "both groups got both events");
        Assert.Equal(["one", "two"], a.Seen);
        Assert.Equal(["one", "two"], b.Seen);
    }

    [Fact]
    public async Task A_direct_subscription_gets_exactly_its_keys_and_an_unroutable_event_fails_when_asked_to()
    {
        Exchange("conformance.direct");
        Queue("conformance.direct-red");
        var connection = await Transport.ConnectAsync(o => o.Client.FailUnroutableEvents = true);
        var log = new EventLog();
        await using var subscriber = await connection.SubscribeAsync<IDirectEvents>(log, new RpcSubscription { Prefetch = 1, Queue = "conformance.direct-red", Bindings = { "red" } });
        var publisher = connection.CreatePublisher<IDirectEvents>();

        await publisher.HappenedAsync("red", "red-1");
        await Assert.ThrowsAsync<RpcUnroutableEventException>(() => publisher.HappenedAsync("blue", "blue-1"));
        await publisher.HappenedAsync("red", "red-2");

        await Wait.UntilAsync(() => log.Seen.Count == 2, "both red events");
        Assert.Equal(["red-1", "red-2"], log.Seen);
    }
}

public sealed class EventConformanceInMemory : EventConformance
{
    protected override TransportFixture CreateTransport() => new InMemoryTransport();
}

public sealed class EventConformanceOnBroker : EventConformance
{
    protected override TransportFixture CreateTransport() => new BrokerTransport();
}
