using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using RpcGen.IntegrationTests.Shapes.Faults;
using RpcGen.IntegrationTests.Shapes.Streaming;
using RpcGen.IntegrationTests.Streaming;
using RpcGen.Wire;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// What one hostile caller can make a server hold or do: a batch runs no more calls at once than Prefetch, a stream
/// runs no further ahead than MaxStreamWindow whatever window or credit the caller sends, and early cancels are
/// forgotten after the server's own bound, however far their deadline.
/// </summary>
public sealed class ServerBoundsTests
{
    private readonly ITestOutputHelper _output;

    public ServerBoundsTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_batch_of_a_thousand_calls_runs_at_most_Prefetch_handlers_at_once()
    {
        await using var broker = new TestBroker();
        var shop = new ConcurrencyShop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Server.Prefetch = 4), shop);

        await using var peer = await RawAmqp.ConnectAsync();
        using (var batch = new PooledBufferWriter())
        {
            CallBatch.BeginBatch(batch);
            for (int i = 0; i < 1000; i++) CallBatch.WriteRequest(batch, "b-" + i, "Wait", 0, "20"u8);
            await peer.Channel.BasicPublishAsync("", server.Queue, mandatory: false,
                new BasicProperties { ReplyTo = WireContract.DirectReplyTo, CorrelationId = "big-batch", Type = CallBatch.MessageType, ContentType = CallBatch.ContentType },
                batch.WrittenMemory);
        }

        await Wait.UntilAsync(() => Volatile.Read(ref shop.Started) == 1000, $"all 1000 calls ran ({Volatile.Read(ref shop.Started)} so far)", seconds: 60);
        _output.WriteLine($"most handlers at once: {shop.MaxConcurrent}");
        Assert.InRange(shop.MaxConcurrent, 1, 4);
    }

    [Fact]
    public async Task A_stream_caller_asking_for_a_huge_window_and_credit_gets_no_more_than_MaxStreamWindow_ahead()
    {
        const int cap = 100;
        await using var broker = new TestBroker();
        var server = await broker.ServeAsync<ICounter>(await broker.ConnectAsync(o => o.Server.MaxStreamWindow = cap), new Counter());

        await using var peer = await RawAmqp.ConnectAsync();
        var replies = (await peer.Channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        long items = 0;
        var consumer = new AsyncEventingBasicConsumer(peer.Channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            if (StreamContract.Read(delivery.BasicProperties.Headers)?.Kind == StreamContract.Items)
            {
                Interlocked.Add(ref items, JsonDocument.Parse(delivery.Body).RootElement.GetArrayLength());
            }

            return Task.CompletedTask;
        };
        await peer.Channel.BasicConsumeAsync(replies, autoAck: true, consumer);

        // Asks for a billion items ahead and never says it took one.
        await peer.Channel.BasicPublishAsync("", server.Queue, mandatory: false,
            new BasicProperties
            {
                ReplyTo = replies, CorrelationId = "greedy", Type = "Count", ContentType = "application/json",
                Headers = new Dictionary<string, object?> { [StreamContract.WindowHeader] = 1_000_000_000L },
            }, Encoding.UTF8.GetBytes("1000000"));
        await Wait.UntilAsync(() => Interlocked.Read(ref items) >= cap, "the first window of items arrived");
        await Task.Delay(1000);
        _output.WriteLine($"items after a window of 1e9: {Interlocked.Read(ref items)}");
        Assert.Equal(cap, Interlocked.Read(ref items));

        // One grant of a trillion: no more than one more cap's worth.
        await peer.Channel.BasicPublishAsync(WireContract.ControlExchangeFor(server.Queue), "", mandatory: false,
            new BasicProperties
            {
                Type = StreamContract.CreditMessageType, CorrelationId = "greedy",
                Headers = new Dictionary<string, object?> { [StreamContract.CreditHeader] = 1_000_000_000_000L },
            }, ReadOnlyMemory<byte>.Empty);
        await Wait.UntilAsync(() => Interlocked.Read(ref items) >= 2 * cap, "the granted items arrived");
        await Task.Delay(1000);
        _output.WriteLine($"items after a grant of 1e12: {Interlocked.Read(ref items)}");
        Assert.Equal(2 * cap, Interlocked.Read(ref items));

        // Stopped, so the server's dispose does not wait out the stream's idle timeout.
        await peer.Channel.BasicPublishAsync(WireContract.ControlExchangeFor(server.Queue), "", mandatory: false,
            new BasicProperties { Type = WireContract.CancelMessageType, CorrelationId = "greedy" }, ReadOnlyMemory<byte>.Empty);
    }

    [Fact]
    public async Task A_flood_of_early_cancels_with_far_deadlines_is_forgotten_after_the_servers_own_bound()
    {
        await using var broker = new TestBroker();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        server.RunningCalls.MaxEarlyCancelMemory = TimeSpan.FromSeconds(1);

        await using var peer = await RawAmqp.ConnectAsync();
        long farAway = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds();
        for (int i = 0; i < 5000; i++)
        {
            await peer.Channel.BasicPublishAsync(WireContract.ControlExchangeFor(server.Queue), "", mandatory: false,
                new BasicProperties
                {
                    Type = WireContract.CancelMessageType, CorrelationId = "never-sent-" + i,
                    Headers = new Dictionary<string, object?> { [WireContract.DeadlineHeader] = farAway },
                }, ReadOnlyMemory<byte>.Empty);
        }

        await Wait.UntilAsync(() => server.RunningCalls.EarlyCancels >= 1000, $"the cancels arrived ({server.RunningCalls.EarlyCancels} so far)");
        _output.WriteLine($"remembered at the peak: {server.RunningCalls.EarlyCancels}");
        await Wait.UntilAsync(() => server.RunningCalls.EarlyCancels == 0,
            $"the cancels were forgotten ({server.RunningCalls.EarlyCancels} still remembered)", seconds: 10);
        Assert.Equal(2, await (await broker.ConnectAsync()).CreateClient<IShop>().ReserveAsync("apple", 2));
    }
}
