using RabbitMQ.Client;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// The real broker the tests run against (started by ./build.sh test; RPCGEN_AMQP says where). Every test gets
/// its own queue prefix, so tests never see each other's queues, and the queues it served are deleted afterwards.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    public static Uri Uri { get; } = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    private readonly List<RpcConnection> _connections = new();
    private readonly List<string> _queues = new();
    private readonly List<string> _exchanges = new();

    public string Prefix { get; } = "test-" + Guid.NewGuid().ToString("N")[..12] + ".";

    public RpcConnectionOptions Options(Action<RpcConnectionOptions>? configure = null)
    {
        var options = new RpcConnectionOptions { Uri = Uri, QueuePrefix = Prefix, ConnectionName = "RpcGen tests" };
        configure?.Invoke(options);
        return options;
    }

    public async Task<RpcConnection> ConnectAsync(Action<RpcConnectionOptions>? configure = null)
    {
        var connection = await RpcConnection.ConnectAsync(Options(configure));
        lock (_connections) _connections.Add(connection);
        return connection;
    }

    public async Task<RpcServer> ServeAsync<TService>(RpcConnection connection, TService implementation, Action<RpcServerOptions>? configure = null)
        where TService : class
    {
        var server = await connection.ServeAsync(implementation, configure);
        lock (_queues) _queues.Add(server.Queue);
        return server;
    }

    /// <summary>Deletes <paramref name="queue"/> (and its <c>.dead-letter</c> queue) at the end of the test, though no server of this test declared it.</summary>
    public void Track(string queue)
    {
        lock (_queues) _queues.Add(queue);
    }

    /// <summary>The full name of an events exchange in this test (the prefix applies to exchanges too); deleted at the end.</summary>
    public string Exchange(string exchange)
    {
        lock (_exchanges) _exchanges.Add(Prefix + exchange);
        return Prefix + exchange;
    }

    /// <summary>The full queue name a service with <paramref name="queue"/> uses in this test.</summary>
    public string QueueName(string queue) => Prefix + queue;

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
        if (_queues.Count == 0 && _exchanges.Count == 0) return;
        var factory = new ConnectionFactory { Uri = Uri };
        await using var amqp = await factory.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        // Deleting a queue that does not exist succeeds, so every queue's dead-letter queue goes too, whether or not it was made.
        foreach (var queue in _queues.Distinct())
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(queue + ".dead-letter");
        }

        // A quorum queue's dead-letter exchange is named like its dead-letter queue.
        foreach (var exchange in _exchanges.Distinct().Concat(_queues.Distinct().Select(q => q + ".dead-letter")))
        {
            // A test that failed before its exchange was declared leaves nothing to delete; the broker may say so by closing the channel.
            await using var exchangeChannel = await amqp.CreateChannelAsync();
            try
            {
                await exchangeChannel.ExchangeDeleteAsync(exchange);
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
            }
        }
    }
}
