using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RabbitMQ.Client;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>
/// Contender 3, the ceiling: the fastest RPC an expert writes by hand on RabbitMQ.Client 7. One channel, direct
/// reply-to, a counter for correlation ids, a dictionary of pending calls completed (and deserialised) on the reply
/// consumer, any number of calls in flight, bodies serialised into pooled buffers; the server takes
/// <see cref="DefaultPrefetch"/> requests at once and runs as many handlers concurrently. It leaves out what a library
/// must have: no timeouts, no publisher confirms or mandatory flag (an unroutable call waits forever), no error replies.
/// </summary>
public sealed class BestEffortContender : IContender
{
    /// <summary>
    /// RpcGen's wire features, which a variant of this contender can send too (contender names like
    /// <c>best-effort+expiration+deadline</c>): they show what each costs on the wire and in the broker, apart from
    /// what a library costs. The plain contender sends none of them.
    /// </summary>
    [Flags]
    public enum WireFeatures
    {
        None = 0,
        Expiration = 1,      // expiration property (per-message TTL)
        Deadline = 2,        // rpc-deadline header on requests
        Status = 4,          // rpc-status header and content type on replies
        UserId = 8,          // user_id property (checked by the broker)
        Mandatory = 16,      // mandatory publish (unroutable requests come back)
        ContentType = 32,    // content type and type name on requests
        All = Expiration | Deadline | Status | UserId | Mandatory | ContentType,
    }

    public static WireFeatures ParseFeatures(IEnumerable<string> names)
    {
        var features = WireFeatures.None;
        foreach (var name in names)
        {
            features |= name switch
            {
                "expiration" => WireFeatures.Expiration,
                "deadline" => WireFeatures.Deadline,
                "status" => WireFeatures.Status,
                "user" => WireFeatures.UserId,
                "mandatory" => WireFeatures.Mandatory,
                "content-type" => WireFeatures.ContentType,
                "all" => WireFeatures.All,
                _ => throw new ArgumentException($"Unknown wire feature '{name}'; use expiration, deadline, status, user, mandatory, content-type or all."),
            };
        }

        return features;
    }

    /// <summary>The server prefetch (and handler concurrency) when none is given: RpcGen's default, for a like-for-like comparison.</summary>
    public static readonly ushort DefaultPrefetch = new RpcConnectionOptions().Server.Prefetch;

    private const string IncrementType = "increment";
    private const string EchoType = "echo";
    private const string DirectReplyTo = "amq.rabbitmq.reply-to";

    private readonly ushort _prefetch;
    private readonly WireFeatures _features;

    public BestEffortContender(ushort prefetch, WireFeatures features = WireFeatures.None)
    {
        _prefetch = prefetch;
        _features = features;
    }

    /// <summary>The ceiling itself: default prefetch, no wire features.</summary>
    public bool IsPlain => _prefetch == DefaultPrefetch && _features == WireFeatures.None;

    /// <summary>Default prefetch and every one of RpcGen's wire features: the like-for-like comparison for RpcGen.</summary>
    public bool SendsAllFeatures => _prefetch == DefaultPrefetch && _features == WireFeatures.All;

    public string Name => (_prefetch == DefaultPrefetch ? "Hand-written, best effort" : $"Hand-written, best effort (prefetch {_prefetch})")
        + _features switch
        {
            WireFeatures.None => string.Empty,
            WireFeatures.All => " + RpcGen's wire features",
            _ => " + " + _features.ToString().Replace(", ", "+", StringComparison.Ordinal),
        };

    private string QueueName(BenchEnvironment environment) => environment.Prefix + "best-effort.p" + _prefetch + "." + (int)_features;

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var queue = QueueName(environment);
        var connection = await environment.ConnectionFactory("best-effort server").CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: _prefetch),
            cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
        await channel.BasicQosAsync(0, _prefetch, global: false, cancellationToken);
        await channel.BasicConsumeAsync(queue, autoAck: false, new RequestConsumer(channel, _features), cancellationToken);
        return new Serving(environment, connection, queue);
    }

    public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        var connection = await environment.ConnectionFactory("best-effort client").CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var client = new Client(connection, channel, QueueName(environment), _features, new ConnectionFactory { Uri = environment.Amqp }.UserName);
        // Direct reply-to: the consumer must be on the publishing channel, with auto-ack.
        await channel.BasicConsumeAsync(DirectReplyTo, autoAck: true, new ReplyConsumer(channel, client.Pending), cancellationToken);
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

    private sealed class RequestConsumer(IChannel channel, WireFeatures features) : AsyncDefaultBasicConsumer(channel)
    {
        public override async Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        {
            var reply = properties.Type switch
            {
                IncrementType => PooledJson.Serialize(BenchService.Increment(JsonSerializer.Deserialize(body.Span, BenchJson.Default.Int32)), BenchJson.Default.Int32),
                EchoType => PooledJson.Serialize(BenchService.Echo(JsonSerializer.Deserialize(body.Span, BenchJson.Default.Payload)!), BenchJson.Default.Payload),
                _ => throw new InvalidOperationException($"Unknown request type '{properties.Type}'."),
            };
            try
            {
                var replyProperties = new BasicProperties { CorrelationId = properties.CorrelationId };
                if ((features & WireFeatures.Status) != 0)
                {
                    replyProperties.ContentType = "application/json";
                    replyProperties.Headers = new Dictionary<string, object?>(1) { ["rpc-status"] = "ok" };
                }

                await Channel.BasicPublishAsync(string.Empty, properties.ReplyTo!, mandatory: false, replyProperties, reply.Memory, CancellationToken.None);
            }
            finally
            {
                reply.Return();
            }

            await Channel.BasicAckAsync(deliveryTag, multiple: false, CancellationToken.None);
        }
    }

    /// <summary>A call waiting for its reply; completes itself from the reply body, on the consumer, without copying it.</summary>
    private abstract class PendingReply<T>(JsonTypeInfo<T> resultType) : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingReply
    {
        public void Complete(ReadOnlySpan<byte> body)
        {
            try
            {
                TrySetResult(JsonSerializer.Deserialize(body, resultType)!);
            }
            catch (Exception e)
            {
                TrySetException(e);
            }
        }
    }

    private sealed class PendingInt() : PendingReply<int>(BenchJson.Default.Int32);

    private sealed class PendingPayload() : PendingReply<Payload>(BenchJson.Default.Payload);

    private interface IPendingReply
    {
        void Complete(ReadOnlySpan<byte> body);
    }

    private sealed class ReplyConsumer(IChannel channel, ConcurrentDictionary<string, IPendingReply> pending) : AsyncDefaultBasicConsumer(channel)
    {
        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        {
            if (properties.CorrelationId is { } id && pending.TryRemove(id, out var call)) call.Complete(body.Span);
            return Task.CompletedTask;
        }
    }

    private sealed class Client(IConnection connection, IChannel channel, string queue, WireFeatures features, string userName) : IContenderClient, IBenchClient
    {
        private long _sequence;

        public ConcurrentDictionary<string, IPendingReply> Pending { get; } = new(Environment.ProcessorCount, 1024, StringComparer.Ordinal);

        public IBenchClient ForWorker(int worker) => this;

        public Task<int> IncrementAsync(int value)
        {
            var call = new PendingInt();
            Start(IncrementType, PooledJson.Serialize(value, BenchJson.Default.Int32), call);
            return call.Task;
        }

        public Task<Payload> EchoAsync(Payload payload)
        {
            var call = new PendingPayload();
            Start(EchoType, PooledJson.Serialize(payload, BenchJson.Default.Payload), call);
            return call.Task;
        }

        private void Start<T>(string type, PooledJson.Rented body, PendingReply<T> call)
        {
            var id = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
            Pending[id] = call;
            var properties = new BasicProperties { CorrelationId = id, ReplyTo = DirectReplyTo, Type = type };
            if (features != WireFeatures.None) AddFeatures(properties);
            ValueTask publish;
            try
            {
                publish = channel.BasicPublishAsync(string.Empty, queue, mandatory: (features & WireFeatures.Mandatory) != 0, properties, body.Memory, CancellationToken.None);
            }
            catch (Exception e)
            {
                body.Return();
                Pending.TryRemove(id, out _);
                call.TrySetException(e);
                return;
            }

            // The publish almost always completes synchronously: then no state machine is allocated.
            if (publish.IsCompletedSuccessfully)
            {
                publish.GetAwaiter().GetResult();
                body.Return();
                return;
            }

            _ = AwaitPublishAsync(publish, body, id, call);
        }

        private void AddFeatures(BasicProperties properties)
        {
            if ((features & WireFeatures.Expiration) != 0) properties.Expiration = "30000";
            if ((features & WireFeatures.UserId) != 0) properties.UserId = userName;
            if ((features & WireFeatures.ContentType) != 0) properties.ContentType = "application/json";
            if ((features & WireFeatures.Deadline) != 0)
            {
                properties.Headers = new Dictionary<string, object?>(1) { ["rpc-deadline"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 30_000 };
            }
        }

        private async Task AwaitPublishAsync<T>(ValueTask publish, PooledJson.Rented body, string id, PendingReply<T> call)
        {
            try
            {
                await publish;
            }
            catch (Exception e)
            {
                Pending.TryRemove(id, out _);
                call.TrySetException(e);
            }
            finally
            {
                body.Return();
            }
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

/// <summary>Serialises into a per-thread buffer and copies the bytes into a pooled array: no allocation per call.</summary>
internal static class PooledJson
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public readonly struct Rented(byte[] array, int length)
    {
        public ReadOnlyMemory<byte> Memory => array.AsMemory(0, length);

        public void Return() => ArrayPool<byte>.Shared.Return(array);
    }

    public static Rented Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, typeInfo);
        writer.Flush();
        var written = buffer.WrittenSpan;
        var array = ArrayPool<byte>.Shared.Rent(written.Length);
        written.CopyTo(array);
        return new Rented(array, written.Length);
    }
}
