using System.Collections.Concurrent;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>
/// The AMQP the runtime relies on, seen through RabbitMQ.Client alone: prefetch, requeue and the redelivered flag,
/// the errors that close a channel (with the same codes), returns of unroutable mandatory messages, exclusive queues.
/// </summary>
public abstract class AmqpConformance : ConformanceTest
{
    [Fact]
    public async Task A_consumer_gets_no_more_than_its_prefetch_until_it_acks_and_a_requeued_message_comes_back_redelivered()
    {
        var queue = Queue("conformance.amqp");
        var amqp = await Transport.OpenAmqpAsync();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        for (int i = 0; i < 5; i++) await channel.BasicPublishAsync("", queue, new byte[] { (byte)i });

        await using var consuming = await amqp.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 2, global: false);
        var deliveries = new ConcurrentQueue<BasicDeliverEventArgs>();
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            deliveries.Enqueue(new BasicDeliverEventArgs(delivery.ConsumerTag, delivery.DeliveryTag, delivery.Redelivered, delivery.Exchange,
                delivery.RoutingKey, delivery.BasicProperties, delivery.Body.ToArray()));
            return Task.CompletedTask;
        };
        await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);

        await Wait.UntilAsync(() => deliveries.Count == 2, "two deliveries");
        await Task.Delay(200);
        Assert.Equal(2, deliveries.Count);

        var first = deliveries.ToArray()[0];
        Assert.False(first.Redelivered);
        await consuming.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);
        await Wait.UntilAsync(() => deliveries.Count == 3, "the requeued message again");
        var again = deliveries.ToArray()[2];
        Assert.True(again.Redelivered);
        Assert.Equal(first.Body.ToArray(), again.Body.ToArray());
    }

    private static readonly AsyncLocal<bool> s_publishing = new();

    [Fact]
    public async Task A_consumer_is_never_called_on_the_publishers_stack()
    {
        var queue = Queue("conformance.amqp");
        var amqp = await Transport.OpenAmqpAsync();
        await using var consuming = await amqp.CreateChannelAsync();
        await consuming.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        var seenWhilePublishing = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += (_, _) =>
        {
            seenWhilePublishing.TrySetResult(s_publishing.Value);
            return Task.CompletedTask;
        };
        await consuming.BasicConsumeAsync(queue, autoAck: true, consumer);

        await using var publishing = await amqp.CreateChannelAsync();
        s_publishing.Value = true;
        await publishing.BasicPublishAsync("", queue, new byte[] { 1 });
        s_publishing.Value = false;

        Assert.False(await seenWhilePublishing.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_passive_declare_of_a_missing_queue_closes_the_channel_with_404_and_later_calls_see_it_closed()
    {
        var amqp = await Transport.OpenAmqpAsync();
        var channel = await amqp.CreateChannelAsync();
        var shutdown = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, reason) =>
        {
            shutdown.TrySetResult(reason);
            return Task.CompletedTask;
        };

        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync(Queue("conformance.missing")));
        var reason = await shutdown.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(404, refused.ShutdownReason!.ReplyCode);
        Assert.Equal((404, ShutdownInitiator.Peer, (ushort)50, (ushort)10), (reason.ReplyCode, reason.Initiator, reason.ClassId, reason.MethodId));
        Assert.StartsWith("NOT_FOUND - no queue '" + Transport.Name("conformance.missing") + "' in vhost", reason.ReplyText, StringComparison.Ordinal);
        Assert.False(channel.IsOpen);
        await Assert.ThrowsAsync<AlreadyClosedException>(() => channel.QueueDeclarePassiveAsync("anything"));
    }

    [Fact]
    public async Task Redeclaring_a_queue_with_other_arguments_is_refused_with_406()
    {
        var queue = Queue("conformance.amqp");
        var amqp = await Transport.OpenAmqpAsync();
        await using (var channel = await amqp.CreateChannelAsync()) await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await using var other = await amqp.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => other.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }));
        Assert.Equal(406, refused.ShutdownReason!.ReplyCode);
        Assert.Contains("inequivalent arg 'x-queue-type'", refused.ShutdownReason.ReplyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mandatory_message_that_routes_nowhere_comes_back_as_a_return()
    {
        var amqp = await Transport.OpenAmqpAsync();
        await using var channel = await amqp.CreateChannelAsync();
        var returned = new TaskCompletionSource<BasicReturnEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.BasicReturnAsync += (_, args) =>
        {
            returned.TrySetResult(args);
            return Task.CompletedTask;
        };
        await channel.BasicPublishAsync("", Transport.Name("conformance.nowhere"), mandatory: true, new BasicProperties { CorrelationId = "c-1" }, new byte[] { 7 });

        var back = await returned.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((312, "NO_ROUTE", "c-1"), (back.ReplyCode, back.ReplyText, back.BasicProperties.CorrelationId));
    }

    [Fact]
    public async Task An_exclusive_queue_is_locked_to_its_connection()
    {
        var queue = Queue("conformance.exclusive");
        var owner = await Transport.OpenAmqpAsync();
        await using var ownerChannel = await owner.CreateChannelAsync();
        await ownerChannel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: false);

        var stranger = await Transport.OpenAmqpAsync();
        await using var channel = await stranger.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync(queue));
        Assert.Equal(405, refused.ShutdownReason!.ReplyCode);
    }
}

public sealed class AmqpConformanceInMemory : AmqpConformance
{
    protected override TransportFixture CreateTransport() => new InMemoryTransport();
}

public sealed class AmqpConformanceOnBroker : AmqpConformance
{
    protected override TransportFixture CreateTransport() => new BrokerTransport();
}
