using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Streaming;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// The start of every streaming test: a <see cref="Counter"/> served on one connection and a client of it on another,
/// so a test sees the caller's pending calls and the server's running ones apart.
/// </summary>
internal sealed record ServedCounter(Counter Counter, RpcServer Server, RpcConnection Connection, ICounter Client)
{
    public static async Task<ServedCounter> StartAsync(TestBroker broker, Counter? counter = null, Action<RpcConnectionOptions>? configureCaller = null)
    {
        counter ??= new Counter();
        var server = await broker.ServeAsync<ICounter>(await broker.ConnectAsync(), counter);
        var connection = await broker.ConnectAsync(configureCaller);
        return new ServedCounter(counter, server, connection, connection.CreateClient<ICounter>());
    }
}
