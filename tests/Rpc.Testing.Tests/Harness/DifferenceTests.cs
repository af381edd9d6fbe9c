using RabbitMQ.Client;
using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>
/// Where the in-memory broker differs from RabbitMQ on purpose: each difference listed in docs/testing.md is pinned
/// here, so changing it is a decision.
/// </summary>
public sealed class DifferenceTests
{
    [Fact]
    public async Task Any_user_name_authenticates_and_sees_every_queue_there_are_no_permissions()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.UserName = "no-such-user-on-any-broker");
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());

        Assert.Equal("no-such-user-on-any-broker redelivered=False", await harness.Connection.CreateClient<ICalc>().WhoAmIAsync());
    }

    [Fact]
    public async Task A_published_user_id_must_still_be_the_connections_user_as_on_the_broker()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        var amqp = harness.CreateAmqpConnection();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.QueueDeclareAsync("spoof", durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "spoof", mandatory: false, new BasicProperties { UserId = "admin" }, ReadOnlyMemory<byte>.Empty);

        await Wait.UntilAsync(() => !channel.IsOpen, "the channel closed");
        Assert.Equal(406, channel.CloseReason!.ReplyCode);
        Assert.Contains("user_id property set to 'admin' but authenticated user was 'guest'", channel.CloseReason.ReplyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_connection_stays_closed_there_is_no_loss_and_no_automatic_recovery()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        var amqp = harness.CreateAmqpConnection();
        await using var connection = await RpcConnection.CreateAsync(amqp);
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = connection.CreateClient<ICalc>();
        Assert.Equal(3, await calc.AddAsync(1, 2));

        await amqp.CloseAsync();
        Assert.False(connection.IsConnected);
        await Assert.ThrowsAnyAsync<RpcException>(() => calc.AddAsync(1, 2));
    }

    [Fact]
    public async Task Exchange_to_exchange_bindings_transactions_and_untracked_confirms_are_not_modelled()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        var amqp = harness.CreateAmqpConnection();
        await using var channel = await amqp.CreateChannelAsync();

        await Assert.ThrowsAsync<NotSupportedException>(() => channel.ExchangeBindAsync("amq.fanout", "amq.topic", "#"));
        await Assert.ThrowsAsync<NotSupportedException>(() => channel.TxSelectAsync());
        await Assert.ThrowsAsync<NotSupportedException>(() => amqp.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false)));
    }

    [Fact]
    public async Task An_expired_message_leaves_its_queue_when_the_queue_is_next_touched_not_on_a_broker_timer()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.UseFakeTime = true);
        var amqp = harness.CreateAmqpConnection();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.QueueDeclareAsync("parked", durable: false, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync("expiring", durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = "parked" });
        await channel.BasicPublishAsync("", "expiring", mandatory: false, new BasicProperties { Expiration = "1000" }, new byte[] { 1 });

        harness.FakeTime.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, harness.MessageCount("parked"));

        // Touching the queue (AdvanceTime does it for every queue) expires it, and its dead letter moves on.
        harness.AdvanceTime(TimeSpan.Zero);
        Assert.Equal(0, harness.MessageCount("expiring"));
        Assert.Equal(1, harness.MessageCount("parked"));
    }
}
