using RabbitMQ.Client;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>
/// The real broker (./build.sh test starts it; RPCGEN_AMQP says where). Each instance has its own queue prefix, and
/// deletes the queues under it when disposed, so tests never see each other's queues.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    public static Uri Uri { get; } = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    private readonly List<string> _queues = new();

    public string Prefix { get; } = "eco-" + Guid.NewGuid().ToString("N")[..12] + ".";

    /// <summary>The full name of a service queue under this prefix; it is deleted at dispose.</summary>
    public string Queue(string serviceQueue)
    {
        var name = Prefix + serviceQueue;
        lock (_queues) _queues.Add(name);
        return name;
    }

    public RpcConnectionOptions Options(Action<RpcConnectionOptions>? configure = null)
    {
        var options = new RpcConnectionOptions { Uri = Uri, QueuePrefix = Prefix, ConnectionName = "RpcGen ecosystem tests" };
        configure?.Invoke(options);
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        string[] queues;
        lock (_queues) queues = _queues.Distinct().ToArray();
        if (queues.Length == 0) return;
        await using var connection = await new ConnectionFactory { Uri = Uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in queues) await channel.QueueDeleteAsync(queue);
    }
}
