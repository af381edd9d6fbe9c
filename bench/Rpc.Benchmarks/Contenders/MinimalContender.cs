using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>
/// The least code that does RPC on RabbitMQ.Client 7, the yardstick of issue 27 for one call in flight: one shared
/// client channel with direct reply-to, a counter for correlation ids, a dictionary of pending calls; the server reads
/// with a prefetch and dispatch concurrency of 16, answers JSON in and out with no headers, publishes the reply, then
/// acks. Nothing else: no timeouts, no mandatory flag, no error replies, no pooling.
/// </summary>
public sealed class MinimalContender : IContender
{
    private const ushort Concurrency = 16;
    private const string DirectReplyTo = "amq.rabbitmq.reply-to";

    public string Name => "Hand-written, minimal";

    private static string QueueName(BenchEnvironment environment) => environment.Prefix + "minimal";

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var queue = QueueName(environment);
        var connection = await environment.ConnectionFactory("minimal server").CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: Concurrency), cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
        await channel.BasicQosAsync(0, Concurrency, global: false, cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, request) =>
        {
            byte[] reply = request.BasicProperties.Type == "echo"
                ? JsonSerializer.SerializeToUtf8Bytes(BenchService.Echo(JsonSerializer.Deserialize(request.Body.Span, BenchJson.Default.Payload)!), BenchJson.Default.Payload)
                : JsonSerializer.SerializeToUtf8Bytes(BenchService.Increment(JsonSerializer.Deserialize(request.Body.Span, BenchJson.Default.Int32)), BenchJson.Default.Int32);
            await channel.BasicPublishAsync(string.Empty, request.BasicProperties.ReplyTo!, false,
                new BasicProperties { CorrelationId = request.BasicProperties.CorrelationId }, reply);
            await channel.BasicAckAsync(request.DeliveryTag, multiple: false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
        return new Serving(environment, connection, queue);
    }

    public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        var connection = await environment.ConnectionFactory("minimal client").CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var client = new Client(connection, channel, QueueName(environment));
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, reply) =>
        {
            if (reply.BasicProperties.CorrelationId is { } id && client.Pending.TryRemove(id, out var call)) call.TrySetResult(reply.Body.ToArray());
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(DirectReplyTo, autoAck: true, consumer, cancellationToken);
        return client;
    }

    private sealed class Serving(BenchEnvironment environment, IConnection connection, string queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await connection.CloseAsync();
            connection.Dispose();
            await AmqpCleanup.DeleteQueuesAsync(environment, queue);
        }
    }

    private sealed class Client(IConnection connection, IChannel channel, string queue) : IContenderClient, IBenchClient
    {
        private long _sequence;

        public ConcurrentDictionary<string, TaskCompletionSource<byte[]>> Pending { get; } = new();

        public IBenchClient ForWorker(int worker) => this;

        public async Task<int> IncrementAsync(int value) =>
            JsonSerializer.Deserialize(await CallAsync("increment", JsonSerializer.SerializeToUtf8Bytes(value, BenchJson.Default.Int32)), BenchJson.Default.Int32);

        public async Task<Payload> EchoAsync(Payload payload) =>
            JsonSerializer.Deserialize(await CallAsync("echo", JsonSerializer.SerializeToUtf8Bytes(payload, BenchJson.Default.Payload)), BenchJson.Default.Payload)!;

        private async Task<byte[]> CallAsync(string type, byte[] body)
        {
            var id = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
            // Continuations off the reply consumer, as any client that lets its callers make the next call must.
            var call = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            Pending[id] = call;
            await channel.BasicPublishAsync(string.Empty, queue, false, new BasicProperties { CorrelationId = id, ReplyTo = DirectReplyTo, Type = type }, body);
            return await call.Task;
        }

        public async ValueTask DisposeAsync()
        {
            await channel.CloseAsync();
            channel.Dispose();
            await connection.CloseAsync();
            connection.Dispose();
        }
    }
}
