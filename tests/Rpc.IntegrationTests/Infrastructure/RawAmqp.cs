using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// A plain RabbitMQ.Client peer that knows nothing of RpcGen: sends hand-made requests (bad bodies, odd properties)
/// and reads the raw replies, so tests see exactly what is on the wire.
/// </summary>
public sealed class RawAmqp : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly Dictionary<string, TaskCompletionSource<RawReply>> _waiting = new();

    private RawAmqp(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public IChannel Channel => _channel;

    /// <summary>Messages ready in <paramref name="queue"/> (not counting those delivered and unacked).</summary>
    public static async Task<uint> ReadyMessagesAsync(string queue)
    {
        await using var raw = await ConnectAsync();
        return (await raw.Channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>
    /// Declares <paramref name="queue"/> durable and consumes it without ever answering: the properties of each request
    /// that reaches it are collected, as on the wire (into <paramref name="seen"/> when given, to watch several queues at once).
    /// </summary>
    public async Task<System.Collections.Concurrent.BlockingCollection<IReadOnlyBasicProperties>> RecordRequestsAsync(string queue,
        System.Collections.Concurrent.BlockingCollection<IReadOnlyBasicProperties>? seen = null)
    {
        seen ??= new System.Collections.Concurrent.BlockingCollection<IReadOnlyBasicProperties>();
        await _channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            seen.Add(delivery.BasicProperties);
            return Task.CompletedTask;
        };
        await _channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return seen;
    }

    public static async Task<RawAmqp> ConnectAsync()
    {
        var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var raw = new RawAmqp(connection, channel);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            TaskCompletionSource<RawReply>? waiter;
            lock (raw._waiting)
            {
                raw._waiting.Remove(delivery.BasicProperties.CorrelationId ?? string.Empty, out waiter);
            }

            var headers = delivery.BasicProperties.Headers?.ToDictionary(
                h => h.Key, h => h.Value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : h.Value?.ToString());
            waiter?.TrySetResult(new RawReply(delivery.BasicProperties.CorrelationId, headers ?? new(), delivery.Body.ToArray()));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync("amq.rabbitmq.reply-to", autoAck: true, consumer);
        return raw;
    }

    /// <summary>Publishes a request with reply_to = direct reply-to and waits (up to 10 s) for its reply.</summary>
    public async Task<RawReply> CallAsync(string queue, byte[] body, string? type = null, string? contentType = null,
        Dictionary<string, object?>? headers = null)
    {
        var correlationId = Guid.NewGuid().ToString();
        var reply = new TaskCompletionSource<RawReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiting) _waiting[correlationId] = reply;
        var properties = new BasicProperties { CorrelationId = correlationId, ReplyTo = "amq.rabbitmq.reply-to", Type = type, ContentType = contentType, Headers = headers };
        await _channel.BasicPublishAsync("", queue, mandatory: false, properties, body);
        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public Task<RawReply> CallAsync(string queue, string body, string? type = null, string? contentType = null,
        Dictionary<string, object?>? headers = null) =>
        CallAsync(queue, Encoding.UTF8.GetBytes(body), type, contentType, headers);

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}

public sealed record RawReply(string? CorrelationId, Dictionary<string, string?> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
    public string? Status => Headers.GetValueOrDefault("rpc-status");

    /// <summary>The "type" of an error body.</summary>
    public string? ErrorType => System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("type").GetString();

    /// <summary>The "message" of an error body.</summary>
    public string? ErrorMessage => System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("message").GetString();
}
