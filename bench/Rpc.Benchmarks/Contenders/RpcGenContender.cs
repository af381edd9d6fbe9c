using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>Contender 1: the generated <c>BenchServiceClient</c> and <c>BenchServiceDispatcher</c> over the RpcGen runtime.</summary>
public sealed class RpcGenContender : IContender
{
    private readonly ushort? _prefetch;

    /// <param name="prefetch">The server's prefetch; null keeps <see cref="RpcOptions.Prefetch"/>'s default.</param>
    public RpcGenContender(ushort? prefetch = null) => _prefetch = prefetch;

    public string Name => _prefetch is null ? "RpcGen" : $"RpcGen (prefetch {_prefetch})";

    private RpcOptions Options(BenchEnvironment environment, string role)
    {
        var options = new RpcOptions
        {
            Uri = environment.Amqp,
            // A prefix per prefetch value lets one server process serve several settings side by side.
            QueuePrefix = environment.Prefix + (_prefetch is null ? string.Empty : "p" + _prefetch + "."),
            JsonSerializerOptions = BenchJson.SharedOptions,
            ConnectionName = "RpcGen bench " + role,
        };
        if (_prefetch is { } prefetch) options.Prefetch = prefetch;
        return options;
    }

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var options = Options(environment, "server");
        var connection = await RpcConnection.ConnectAsync(options, cancellationToken);
        var server = await connection.ServeAsync<IBenchService>(new BenchService(), cancellationToken);
        return new Serving(environment, connection, server.Queue);
    }

    public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        var connection = await RpcConnection.ConnectAsync(Options(environment, "client"), cancellationToken);
        return new Client(connection, connection.CreateClient<IBenchService>());
    }

    private sealed class Serving(BenchEnvironment environment, RpcConnection connection, string queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await connection.DisposeAsync();
            // RpcGen declares its service queues durable; this run's queue must not outlive it.
            await AmqpCleanup.DeleteQueuesAsync(environment, queue);
        }
    }

    private sealed class Client(RpcConnection connection, IBenchService service) : IContenderClient, IBenchClient
    {
        public IBenchClient ForWorker(int worker) => this;

        public Task<int> IncrementAsync(int value) => service.IncrementAsync(value);

        public Task<Payload> EchoAsync(Payload payload) => service.EchoAsync(payload);

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
