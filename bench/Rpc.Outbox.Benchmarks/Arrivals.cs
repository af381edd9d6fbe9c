using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.Outbox.Benchmarks;

/// <summary>Counts the messages reaching a queue (auto-ack, plain RabbitMQ.Client): the same receiving cost for every contender.</summary>
internal sealed class Arrivals : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly string _queue;
    private long _count;

    private Arrivals(IConnection connection, IChannel channel, string queue)
    {
        _connection = connection;
        _channel = channel;
        _queue = queue;
    }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>
    /// Declares <paramref name="queue"/> bound to <paramref name="exchange"/> with #, or, without an exchange, finds the
    /// queue the contender declared (Wolverine's, with its own arguments), and counts what arrives.
    /// </summary>
    public static async Task<Arrivals> StartAsync(Uri amqp, string queue, string? exchange)
    {
        var connection = await new ConnectionFactory { Uri = amqp }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        if (exchange is null)
        {
            await channel.QueueDeclarePassiveAsync(queue);
        }
        else
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true);
            await channel.QueueBindAsync(queue, exchange, "#");
        }

        var arrivals = new Arrivals(connection, channel, queue);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, _) =>
        {
            Interlocked.Increment(ref arrivals._count);
            return Task.CompletedTask;
        };
        await channel.BasicQosAsync(0, 500, false);
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return arrivals;
    }

    /// <summary>Deletes the queue: what later contenders publish must not pile up in it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _channel.QueueDeleteAsync(_queue, ifUnused: false, ifEmpty: false);
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
