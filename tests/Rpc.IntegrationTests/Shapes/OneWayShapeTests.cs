using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.OneWay;
using Xunit;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>
/// [RpcMethod(OneWay = true)]: the client publishes without reply_to and completes when the broker has confirmed the
/// publish; the server runs the method and sends no reply.
/// </summary>
public sealed class OneWayShapeTests
{
    [Fact]
    public async Task One_way_calls_complete_without_a_reply_and_the_server_runs_them()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var sink = new EventSink();
        await broker.ServeAsync<IEventSink>(rpc, sink);
        var client = rpc.CreateClient<IEventSink>();

        await client.RecordAsync("clicks", 3);
        await client.NotifyAsync("hello");
        Assert.Equal(0, rpc.PendingCallCount);   // nothing waits for a reply

        await sink.Received(2).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { "clicks=3", "notify hello" }, (await client.RecordedAsync()).Order());
    }

    [Fact]
    public async Task A_one_way_request_has_no_reply_to_and_is_in_the_queue_when_the_call_completes()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var queue = broker.QueueName("EventSink");
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        try
        {
            await rpc.CreateClient<IEventSink>().RecordAsync("wire", 7);

            // The call completed on the broker's confirm, so the request is already queued.
            var request = await channel.BasicGetAsync(queue, autoAck: true);
            Assert.NotNull(request);
            Assert.True(string.IsNullOrEmpty(request.BasicProperties.ReplyTo));
            Assert.Equal("Record", request.BasicProperties.Type);
            Assert.Equal("application/json", request.BasicProperties.ContentType);
            // Durable work (changed on purpose with durable one-way work): persistent, and no expiration unless a time-to-live is set.
            Assert.True(request.BasicProperties.Persistent);
            Assert.Null(request.BasicProperties.Expiration);
            Assert.Equal("""{"name":"wire","value":7}""", Encoding.UTF8.GetString(request.Body.Span));
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
        }
    }

    [Fact]
    public async Task The_server_sends_no_reply_to_a_one_way_request_even_when_it_has_a_reply_to()
    {
        await using var broker = new TestBroker();
        // One request at a time: the one-way request is finished (and any reply to it published) before the next starts.
        var rpc = await broker.ConnectAsync(o => o.Server.Prefetch = 1);
        await broker.ServeAsync<IEventSink>(rpc, new EventSink());
        await using var replies = await ReplyRecorder.StartAsync();

        await replies.PublishAsync(broker.QueueName("EventSink"), "one-way", "notify", "\"raw\"");
        await replies.PublishAsync(broker.QueueName("EventSink"), "marker", "Recorded", "");
        var marker = await replies.WaitForAsync("marker");

        Assert.Equal(new[] { "notify raw" }, JsonSerializer.Deserialize<string[]>(marker));
        Assert.Equal(new[] { "marker" }, replies.CorrelationIds);
    }

    [Fact]
    public async Task A_one_way_call_to_a_queue_nobody_serves_declares_it_and_waits_there_for_a_server()
    {
        // Changed on purpose with durable one-way work: it used to fail with RpcServiceUnavailableException.
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        broker.Track(broker.QueueName("EventSink"));

        await rpc.CreateClient<IEventSink>().RecordAsync("waiting", 1);
        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("EventSink")));

        var sink = new EventSink();
        await broker.ServeAsync<IEventSink>(rpc, sink);
        await sink.Received(1).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { "waiting=1" }, await sink.RecordedAsync());
    }

    private sealed class EventSink : IEventSink
    {
        private readonly ConcurrentQueue<string> _recorded = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource> _waiters = new();

        /// <summary>Completes once <paramref name="count"/> calls have run on the server.</summary>
        public Task Received(int count)
        {
            var waiter = _waiters.GetOrAdd(count, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (_recorded.Count >= count) waiter.TrySetResult();
            return waiter.Task;
        }

        public Task RecordAsync(string name, int value) => Add(name + "=" + value);

        public ValueTask NotifyAsync(string message) => new(Add("notify " + message));

        public Task<string[]> RecordedAsync() => Task.FromResult(_recorded.ToArray());

        private Task Add(string entry)
        {
            _recorded.Enqueue(entry);
            foreach (var (count, waiter) in _waiters)
            {
                if (_recorded.Count >= count) waiter.TrySetResult();
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>A plain client on direct reply-to that keeps every reply it gets, wanted or not.</summary>
    private sealed class ReplyRecorder : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly ConcurrentQueue<string> _correlationIds = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]>> _bodies = new();

        private ReplyRecorder(IConnection connection, IChannel channel)
        {
            _connection = connection;
            _channel = channel;
        }

        public IReadOnlyList<string> CorrelationIds => _correlationIds.ToArray();

        public static async Task<ReplyRecorder> StartAsync()
        {
            var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            var recorder = new ReplyRecorder(connection, channel);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                var id = delivery.BasicProperties.CorrelationId ?? "(none)";
                recorder._correlationIds.Enqueue(id);
                recorder.Body(id).TrySetResult(delivery.Body.ToArray());
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync("amq.rabbitmq.reply-to", autoAck: true, consumer);
            return recorder;
        }

        public async Task PublishAsync(string queue, string correlationId, string type, string body)
        {
            var properties = new BasicProperties { CorrelationId = correlationId, ReplyTo = "amq.rabbitmq.reply-to", Type = type, ContentType = "application/json" };
            await _channel.BasicPublishAsync("", queue, mandatory: false, properties, Encoding.UTF8.GetBytes(body));
        }

        public async Task<byte[]> WaitForAsync(string correlationId) => await Body(correlationId).Task.WaitAsync(TimeSpan.FromSeconds(10));

        private TaskCompletionSource<byte[]> Body(string correlationId) =>
            _bodies.GetOrAdd(correlationId, _ => new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));

        public async ValueTask DisposeAsync()
        {
            await _channel.CloseAsync();
            await _connection.CloseAsync();
            _channel.Dispose();
            _connection.Dispose();
        }
    }
}
