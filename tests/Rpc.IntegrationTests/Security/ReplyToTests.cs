using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using RpcGen.IntegrationTests.Shapes.Faults;
using RpcGen.Diagnostics;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A server publishes replies with its own broker rights through the default exchange, which reaches every queue of
/// the vhost: it must not let a caller pick any queue as reply_to (a confused deputy writing into another service's
/// work queue). It answers only direct reply-to, server-named queues and the queues RpcServerOptions.AllowedReplyQueuePrefixes names.
/// </summary>
public sealed class ReplyToTests
{
    [Fact]
    public async Task A_request_whose_reply_to_names_another_queue_is_not_run_nor_answered_and_is_acked_with_a_warning()
    {
        await using var broker = new TestBroker();
        var logs = new CapturingLoggerFactory();
        var shop = new Shop();
        // Prefetch 1: the legitimate call made last is served only after the forged ones were settled.
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o =>
        {
            o.Server.Prefetch = 1;
            o.LoggerFactory = logs;
        }), shop);
        var victim = broker.QueueName("victim");
        broker.Track(victim);

        await using var peer = await RawAmqp.ConnectAsync();
        await peer.Channel.QueueDeclareAsync(victim, durable: true, exclusive: false, autoDelete: false);
        // A lone request, and a batch of two, each asking for its replies in the victim's queue.
        await peer.Channel.BasicPublishAsync("", server.Queue, mandatory: false,
            new BasicProperties { ReplyTo = victim, CorrelationId = "forged-1", Type = "Wait", ContentType = "application/json" }, Encoding.UTF8.GetBytes("10"));
        using (var batch = new PooledBufferWriter())
        {
            CallBatch.BeginBatch(batch);
            CallBatch.WriteRequest(batch, "forged-2", "Wait", 0, "10"u8);
            CallBatch.WriteRequest(batch, "forged-3", "Reserve", 0, "{\"sku\":\"x\",\"quantity\":1}"u8);
            await peer.Channel.BasicPublishAsync("", server.Queue, mandatory: false,
                new BasicProperties { ReplyTo = victim, CorrelationId = "forged-batch", Type = CallBatch.MessageType, ContentType = CallBatch.ContentType },
                batch.WrittenMemory);
        }

        var client = (await broker.ConnectAsync()).CreateClient<IShop>();
        Assert.Equal(2, await client.ReserveAsync("apple", 2));
        await Task.Delay(300); // a reply published just before would have reached the victim by now

        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(victim));
        Assert.Equal(0, Volatile.Read(ref shop.Started));
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
        Assert.Equal(0, server.InFlight);
        var warnings = logs.Events.Where(e => e.EventId == RpcLogEvents.ReplyQueueRefused).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Contains(warnings, w => w.Message.Contains($"'{victim}'") && w.Message.Contains("forged-1"));
    }

    [Fact]
    public async Task Server_named_queues_and_queues_the_options_allow_get_their_replies()
    {
        await using var broker = new TestBroker();
        var allowed = broker.QueueName("replies.");
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Server.AllowedReplyQueuePrefixes.Add(allowed)), new Shop());

        await using var peer = await RawAmqp.ConnectAsync();
        var serverNamed = (await peer.Channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        var named = allowed + "7";
        broker.Track(named);
        await peer.Channel.QueueDeclareAsync(named, durable: false, exclusive: false, autoDelete: false);

        foreach (var replyTo in new[] { serverNamed, named })
        {
            await peer.Channel.BasicPublishAsync("", server.Queue, mandatory: false,
                new BasicProperties { ReplyTo = replyTo, CorrelationId = "ok-" + replyTo, Type = "Reserve", ContentType = "application/json" },
                Encoding.UTF8.GetBytes("{\"sku\":\"apple\",\"quantity\":3}"));
            BasicGetResult? reply = null;
            // The exclusive queue is the peer's own: read through its channel.
            await Wait.UntilAsync(async () => (reply = await peer.Channel.BasicGetAsync(replyTo, autoAck: true)) is not null, $"the reply reached '{replyTo}'");
            Assert.Equal("3", Encoding.UTF8.GetString(reply!.Body.Span));
            Assert.Equal("ok-" + replyTo, reply.BasicProperties.CorrelationId);
        }
    }
}
