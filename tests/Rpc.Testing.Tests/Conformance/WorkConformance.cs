using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>One-way work: delivery to a server that starts later, retries, dead letters, the order an ordered service keeps.</summary>
public abstract class WorkConformance : ConformanceTest
{
    [Fact]
    public async Task Work_sent_while_no_server_runs_waits_in_its_queue_and_runs_once_when_one_starts()
    {
        Queue("conformance.work");
        var connection = await Transport.ConnectAsync();
        var client = connection.CreateClient<IWork>();
        await client.DoAsync("early");

        var work = new Work();
        await using var server = await connection.ServeAsync<IWork>(work);
        await Wait.UntilAsync(() => work.Done.Count == 1, "the queued work ran");
        Assert.Equal(["early"], work.Done);
    }

    [Theory]
    [InlineData(RpcQueueType.Classic)]
    [InlineData(RpcQueueType.Quorum)]
    public async Task Failing_work_is_retried_up_to_the_limit_then_dead_lettered_with_its_error(RpcQueueType queueType)
    {
        var queue = Queue("conformance.work");
        var connection = await Transport.ConnectAsync(o =>
        {
            o.Topology.QueueType = queueType;
            o.Server.RetryLimit = 2;
            o.Server.RetryBackoff = TimeSpan.FromMilliseconds(10);
        });
        var work = new Work();
        await using var server = await connection.ServeAsync<IWork>(work);
        await connection.CreateClient<IWork>().DoAsync("fail-1");

        var dead = await DrainAsync(queue + ".dead-letter", atLeast: 1);
        Assert.Single(dead);
        Assert.Equal("Do", dead[0].BasicProperties.Type);
        Assert.Equal("2", Header(dead[0].BasicProperties, "rpc-retries"));
        Assert.Equal(3, work.Attempts);
    }

    [Fact]
    public async Task A_quorum_queue_dead_letters_a_message_returned_past_its_delivery_limit()
    {
        var queue = Queue("conformance.work");
        var connection = await Transport.ConnectAsync(o =>
        {
            o.Topology.QueueType = RpcQueueType.Quorum;
            o.Topology.QuorumDeliveryLimit = 2;
        });
        // Declares the queue, its dead-letter exchange and queue; then nobody serves it.
        await (await connection.ServeAsync<IWork>(new Work())).DisposeAsync();
        await connection.CreateClient<IWork>().DoAsync("poison");

        // A consumer that dies with every delivery: each comes back, counted, until the broker gives up on it.
        var amqp = await Transport.OpenAmqpAsync();
        await using var channel = await amqp.CreateChannelAsync();
        for (int delivery = 0; delivery <= 2; delivery++)
        {
            RabbitMQ.Client.BasicGetResult? got = null;
            await Wait.UntilAsync(async () => (got = await channel.BasicGetAsync(queue, autoAck: false)) is not null, $"delivery {delivery}");
            Assert.Equal(delivery > 0, got!.Redelivered);
            Assert.Equal(delivery.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(got.BasicProperties, "x-delivery-count"));
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        }

        var dead = await DrainAsync(queue + ".dead-letter", atLeast: 1);
        Assert.Equal("delivery_limit", Header(Assert.Single(dead).BasicProperties, "x-first-death-reason"));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
    }

    [Fact]
    public async Task An_ordered_service_runs_work_in_the_order_it_was_sent()
    {
        Queue("conformance.ordered");
        var connection = await Transport.ConnectAsync();
        var work = new OrderedWork();
        await using var server = await connection.ServeAsync<IOrderedWork>(work);
        var client = connection.CreateClient<IOrderedWork>();
        for (int i = 0; i < 50; i++) await client.StepAsync(i);

        await Wait.UntilAsync(() => work.Steps.Count == 50, "all 50 steps ran");
        Assert.Equal(Enumerable.Range(0, 50), work.Steps);
    }
}

public sealed class WorkConformanceInMemory : WorkConformance
{
    protected override TransportFixture CreateTransport() => new InMemoryTransport();
}

public sealed class WorkConformanceOnBroker : WorkConformance
{
    protected override TransportFixture CreateTransport() => new BrokerTransport();
}
