using RabbitMQ.Client;

namespace RpcGen.Testing.Tests.Infrastructure;

/// <summary>
/// Where a conformance test runs: the in-memory broker of RpcGen.Testing or the real RabbitMQ node. Each test gets
/// its own transport and queue prefix; the same test code runs on both.
/// </summary>
public abstract class TransportFixture : IAsyncDisposable
{
    public string Prefix { get; } = "conf-" + Guid.NewGuid().ToString("N")[..10] + ".";

    public abstract bool IsInMemory { get; }

    /// <summary>An RpcConnection with the test's prefix and <paramref name="configure"/>.</summary>
    public abstract Task<RpcConnection> ConnectAsync(Action<RpcConnectionOptions>? configure = null);

    /// <summary>A raw AMQP connection, to look at queues as an operator would.</summary>
    public abstract Task<IConnection> OpenAmqpAsync();

    /// <summary>A queue or exchange name with the test's prefix.</summary>
    public string Name(string name) => Prefix + name;

    public abstract ValueTask DisposeAsync();
}

public sealed class InMemoryTransport : TransportFixture
{
    private RpcTestHarness? _harness;

    public override bool IsInMemory => true;

    public RpcTestHarness Harness => _harness ?? throw new InvalidOperationException("Connect first.");

    public override async Task<RpcConnection> ConnectAsync(Action<RpcConnectionOptions>? configure = null)
    {
        _harness ??= await RpcTestHarness.StartAsync(o => o.ConfigureConnection = c => c.QueuePrefix = Prefix);
        return await _harness.ConnectAsync(configure);
    }

    public override async Task<IConnection> OpenAmqpAsync()
    {
        _harness ??= await RpcTestHarness.StartAsync(o => o.ConfigureConnection = c => c.QueuePrefix = Prefix);
        return _harness.CreateAmqpConnection();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync();
    }
}

public sealed class BrokerTransport : TransportFixture
{
    public static Uri Uri { get; } = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    private readonly List<RpcConnection> _connections = new();
    private readonly List<IConnection> _amqp = new();

    public override bool IsInMemory => false;

    /// <summary>Queues and exchanges this test made on the shared node, deleted at the end.</summary>
    public List<string> Queues { get; } = new();

    public List<string> Exchanges { get; } = new();

    public override async Task<RpcConnection> ConnectAsync(Action<RpcConnectionOptions>? configure = null)
    {
        var options = new RpcConnectionOptions { Uri = Uri, QueuePrefix = Prefix, ConnectionName = "RpcGen conformance" };
        configure?.Invoke(options);
        var connection = await RpcConnection.ConnectAsync(options);
        lock (_connections) _connections.Add(connection);
        return connection;
    }

    public override async Task<IConnection> OpenAmqpAsync()
    {
        var connection = await new ConnectionFactory { Uri = Uri }.CreateConnectionAsync();
        lock (_amqp) _amqp.Add(connection);
        return connection;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
        foreach (var connection in _amqp) await connection.DisposeAsync();
        await using var amqp = await new ConnectionFactory { Uri = Uri }.CreateConnectionAsync();
        foreach (var queue in Queues.Distinct())
        {
            await using var channel = await amqp.CreateChannelAsync();
            await channel.QueueDeleteAsync(Name(queue));
            await channel.QueueDeleteAsync(Name(queue) + ".dead-letter");
        }

        foreach (var exchange in Exchanges.Distinct().Select(Name).Concat(Queues.Distinct().Select(q => Name(q) + ".dead-letter")))
        {
            await using var channel = await amqp.CreateChannelAsync();
            try
            {
                await channel.ExchangeDeleteAsync(exchange);
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
            }
        }
    }
}
