using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// A raw RabbitMQ.Client consumer of one service queue that knows nothing of RpcGen: for each request it calls the
/// test's handler, which may answer with any bytes, properties and headers (<see cref="SendAsync"/>), or not at all.
/// It plays broken or hostile servers; the queue is declared as RpcGen declares it and deleted by the test's broker.
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private HostileServer(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    /// <summary>A request as delivered: its properties and a copy of its body.</summary>
    public sealed record Request(IReadOnlyBasicProperties Properties, byte[] Body)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);
    }

    public static async Task<HostileServer> StartAsync(TestBroker broker, string queue, Func<HostileServer, Request, Task> onRequest)
    {
        broker.Track(queue);
        var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var server = new HostileServer(connection, channel);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => onRequest(server, new Request(delivery.BasicProperties, delivery.Body.ToArray()));
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return server;
    }

    /// <summary>Publishes one message to <paramref name="replyTo"/> through the default exchange, as a server answers.</summary>
    public async Task SendAsync(string replyTo, string? correlationId, byte[] body, IDictionary<string, object?>? headers = null, string? contentType = null)
    {
        var properties = new BasicProperties { CorrelationId = correlationId, Headers = headers, ContentType = contentType };
        await _channel.BasicPublishAsync("", replyTo, mandatory: false, properties, body);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}
