using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.TestServer;
using RpcGen.Transport;
using Xunit;

namespace RpcGen.IntegrationTests.Cluster;

/// <summary>
/// RpcTopologyOptions.QueueType and QueueTypes on the shared single node (quorum queues need no cluster): which queue the
/// broker really made, the delivery limit that dead-letters a message instead of looping it, and a clear error when a
/// queue already exists as the other type.
/// </summary>
public sealed class QueueTypeTests
{
    [Fact]
    public async Task A_quorum_request_queue_serves_calls_and_the_broker_holds_it_as_a_quorum_queue()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Topology.QueueType = RpcQueueType.Quorum);
        await broker.ServeAsync<IWorkService>(rpc, new WorkService("quorum"));

        var result = await rpc.CreateClient<IWorkService>().DoAsync(7, 0);
        Assert.Equal(7, result.Id);

        // The broker refuses a declaration without x-queue-type exactly when the queue it holds is not classic.
        var error = await DeclareRawAsync(broker.QueueName("work"), arguments: null);
        Assert.Contains("inequivalent arg", error);
        Assert.Contains("received none but current is", error);
        Assert.Null(await DeclareRawAsync(broker.QueueName("work"), QueueDeclarations.ArgumentsFor(rpc.Settings, broker.QueueName("work"))));
        await DeleteAsync(broker.QueueName("work") + QueueDeclarations.DeadLetterSuffix);
    }

    [Fact]
    public async Task QueueTypes_overrides_QueueType_for_one_queue()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Topology.QueueType = RpcQueueType.Quorum;
            o.Topology.QueueTypes["work"] = RpcQueueType.Classic;
        });
        await broker.ServeAsync<IWorkService>(rpc, new WorkService("classic"));
        Assert.Equal(1, (await rpc.CreateClient<IWorkService>().DoAsync(1, 0)).Id);

        // Classic queues are declared without arguments, as every earlier RpcGen declared them.
        Assert.Null(await DeclareRawAsync(broker.QueueName("work"), arguments: null));
    }

    [Fact]
    public async Task Serving_a_quorum_queue_that_exists_as_classic_fails_naming_the_queue_and_the_mismatch_and_the_connection_stays_usable()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("work");
        Assert.Null(await DeclareRawAsync(queue, arguments: null));
        try
        {
            var rpc = await broker.ConnectAsync(o => o.Topology.QueueType = RpcQueueType.Quorum);

            var error = await Assert.ThrowsAsync<RpcException>(() => rpc.ServeAsync<IWorkService>(new WorkService("mismatch")));
            Assert.Contains($"queue '{queue}'", error.Message);
            Assert.Contains("a quorum queue (x-queue-type quorum", error.Message);
            Assert.Contains("inequivalent arg", error.Message);
            Assert.Contains("RpcTopologyOptions.QueueType", error.Message);
            Assert.Equal("WorkService", error.Service);

            // Only the server's own channel closed: the connection still calls, and a classic server serves the queue.
            await using var classic = await RpcConnection.ConnectAsync(broker.Options());
            await using var server = await classic.ServeAsync<IWorkService>(new WorkService("classic"));
            Assert.Equal(2, (await rpc.CreateClient<IWorkService>().DoAsync(2, 0)).Id);
        }
        finally
        {
            await DeleteAsync(queue);
            await DeleteAsync(queue + QueueDeclarations.DeadLetterSuffix);
        }
    }

    [Fact]
    public async Task A_message_redelivered_past_the_delivery_limit_is_dead_lettered_instead_of_looping()
    {
        await using var broker = new TestBroker();
        var options = broker.Options(o =>
        {
            o.Topology.QueueType = RpcQueueType.Quorum;
            o.Topology.QuorumDeliveryLimit = 2;
        });
        var queue = broker.QueueName("poison");
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        try
        {
            await QueueDeclarations.DeclareDurableAsync(channel, RpcSettings.For(options), queue, "test", CancellationToken.None);
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties(), "poison"u8.ToArray());

            // A server that dies mid-call gives the delivery back unacked; a reject with requeue does the same thing.
            // A reject, not a nack: RabbitMQ 4.3 counts only rejects (and returns on a closed channel) toward the limit.
            var deliveries = 0;
            for (var attempt = 0; attempt < 10; attempt++)
            {
                var delivery = await GetAsync(channel, queue);
                if (delivery is null) break;
                deliveries++;
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
            }

            Assert.Equal(3, deliveries); // the first delivery and two redeliveries; the limit counts redeliveries
            var dead = await GetAsync(channel, queue + QueueDeclarations.DeadLetterSuffix);
            Assert.NotNull(dead);
            Assert.Equal("poison", System.Text.Encoding.UTF8.GetString(dead.Body.Span));
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(queue + QueueDeclarations.DeadLetterSuffix);
        }
    }

    /// <summary>Quorum queues hand a requeued message back after a moment; poll briefly instead of reading once.</summary>
    private static async Task<BasicGetResult?> GetAsync(IChannel channel, string queue)
    {
        for (var i = 0; i < 50; i++)
        {
            if (await channel.BasicGetAsync(queue, autoAck: false) is { } result) return result;
            await Task.Delay(100);
        }

        return null;
    }

    /// <summary>Declares with a throwaway connection; returns the broker's refusal, or null when it accepted.</summary>
    private static async Task<string?> DeclareRawAsync(string queue, IDictionary<string, object?>? arguments)
    {
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
            return null;
        }
        catch (OperationInterruptedException e)
        {
            return e.ShutdownReason?.ReplyText;
        }
    }

    private static async Task DeleteAsync(string queue)
    {
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
    }
}
