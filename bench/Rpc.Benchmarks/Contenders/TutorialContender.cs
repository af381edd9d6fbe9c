using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>
/// Contender 2: RPC written the way the RabbitMQ tutorial teaches it, on the RabbitMQ.Client 7 async API. The client
/// declares an exclusive server-named reply queue, sends one call at a time with a GUID correlation id and a
/// dictionary of callbacks; the server takes one request at a time (prefetch 1), replies, then acks. With N calls in
/// flight there are N such clients (one channel and reply queue each, on one shared connection). With
/// <c>directReplyTo</c> the client consumes RabbitMQ's direct reply-to pseudo-queue instead, all else the same.
/// </summary>
public sealed class TutorialContender(bool directReplyTo = false) : IContender
{
    private const string IncrementType = "increment";
    private const string EchoType = "echo";

    public string Name => directReplyTo ? "Hand-written, tutorial, direct reply-to" : "Hand-written, tutorial";

    private string QueueName(BenchEnvironment environment) => environment.Prefix + (directReplyTo ? "tutorial-direct" : "tutorial");

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var queue = QueueName(environment);
        var connection = await environment.ConnectionFactory("tutorial server").CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(queue: queue, durable: false, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
        await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: 1, global: false, cancellationToken);

        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (sender, ea) =>
        {
            var ch = ((AsyncEventingBasicConsumer)sender).Channel;
            byte[] body = ea.Body.ToArray();
            var props = ea.BasicProperties;
            var replyProps = new BasicProperties { CorrelationId = props.CorrelationId };
            byte[] response = Array.Empty<byte>();
            try
            {
                response = props.Type switch
                {
                    IncrementType => JsonSerializer.SerializeToUtf8Bytes(
                        BenchService.Increment(JsonSerializer.Deserialize(body, BenchJson.Default.Int32)), BenchJson.Default.Int32),
                    EchoType => JsonSerializer.SerializeToUtf8Bytes(
                        BenchService.Echo(JsonSerializer.Deserialize(body, BenchJson.Default.Payload)!), BenchJson.Default.Payload),
                    _ => throw new InvalidOperationException($"Unknown request type '{props.Type}'."),
                };
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"tutorial server: {e.Message}");
            }
            finally
            {
                await ch.BasicPublishAsync(exchange: string.Empty, routingKey: props.ReplyTo!, mandatory: true,
                    basicProperties: replyProps, body: response);
                await ch.BasicAckAsync(deliveryTag: ea.DeliveryTag, multiple: false);
            }
        };

        await channel.BasicConsumeAsync(queue, autoAck: false, consumer: consumer, cancellationToken: cancellationToken);
        return new Serving(environment, connection, queue);
    }

    public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        var connection = await environment.ConnectionFactory("tutorial client").CreateConnectionAsync(cancellationToken);
        var clients = new TutorialRpcClient[maxInFlight];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = new TutorialRpcClient(QueueName(environment), directReplyTo);
            await clients[i].StartAsync(connection, cancellationToken);
        }

        return new Clients(connection, clients);
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

    private sealed class Clients(IConnection connection, TutorialRpcClient[] clients) : IContenderClient
    {
        public IBenchClient ForWorker(int worker) => clients[worker];

        public async ValueTask DisposeAsync()
        {
            foreach (var client in clients) await client.DisposeAsync();
            await connection.CloseAsync();
            connection.Dispose();
        }
    }

    /// <summary>The tutorial's RpcClient, typed for the two benchmark calls.</summary>
    private sealed class TutorialRpcClient(string requestQueue, bool directReplyTo) : IBenchClient, IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]>> _callbackMapper = new();
        private IChannel? _channel;
        private string? _replyQueueName;

        public async Task StartAsync(IConnection connection, CancellationToken cancellationToken)
        {
            _channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            // Server-named, exclusive, auto-delete: the tutorial's reply queue; or direct reply-to, consumed without acks.
            _replyQueueName = directReplyTo
                ? "amq.rabbitmq.reply-to"
                : (await _channel.QueueDeclareAsync(cancellationToken: cancellationToken)).QueueName;
            var consumer = new AsyncEventingBasicConsumer(_channel);
            consumer.ReceivedAsync += (model, ea) =>
            {
                string? correlationId = ea.BasicProperties.CorrelationId;
                if (!string.IsNullOrEmpty(correlationId) && _callbackMapper.TryRemove(correlationId, out var tcs))
                {
                    tcs.TrySetResult(ea.Body.ToArray());
                }

                return Task.CompletedTask;
            };
            await _channel.BasicConsumeAsync(_replyQueueName, autoAck: true, consumer: consumer, cancellationToken: cancellationToken);
        }

        public async Task<int> IncrementAsync(int value)
        {
            var reply = await CallAsync(IncrementType, JsonSerializer.SerializeToUtf8Bytes(value, BenchJson.Default.Int32));
            return JsonSerializer.Deserialize(reply, BenchJson.Default.Int32);
        }

        public async Task<Payload> EchoAsync(Payload payload)
        {
            var reply = await CallAsync(EchoType, JsonSerializer.SerializeToUtf8Bytes(payload, BenchJson.Default.Payload));
            return JsonSerializer.Deserialize(reply, BenchJson.Default.Payload)!;
        }

        private async Task<byte[]> CallAsync(string type, byte[] message, CancellationToken cancellationToken = default)
        {
            string correlationId = Guid.NewGuid().ToString();
            var props = new BasicProperties { CorrelationId = correlationId, ReplyTo = _replyQueueName, Type = type };
            var tcs = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            _callbackMapper.TryAdd(correlationId, tcs);
            await _channel!.BasicPublishAsync(exchange: string.Empty, routingKey: requestQueue, mandatory: true, basicProperties: props, body: message,
                cancellationToken: cancellationToken);
            using CancellationTokenRegistration ctr = cancellationToken.Register(() =>
            {
                _callbackMapper.TryRemove(correlationId, out _);
                tcs.SetCanceled();
            });
            return await tcs.Task;
        }

        public async ValueTask DisposeAsync()
        {
            if (_channel is not null)
            {
                await _channel.CloseAsync();
                _channel.Dispose();
            }
        }
    }
}
