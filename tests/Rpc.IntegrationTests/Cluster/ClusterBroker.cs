using System.Diagnostics;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Cluster;

/// <summary>
/// The three-node cluster of ./build.sh cluster (nodes c1..c3 on 5681..5683 plus RPCGEN_TEST_PORT_OFFSET), started
/// once for the cluster tests and stopped after them; tests may kill, stop and restart its nodes.
/// </summary>
public sealed class ClusterBroker : IAsyncLifetime
{
    public static IReadOnlyList<string> Nodes { get; } = ["c1", "c2", "c3"];

    public static int PortOf(string node) => TestPorts.Offset + 5680 + int.Parse(node[1..]);

    public static Uri UriOf(string node) => new($"amqp://guest:guest@localhost:{PortOf(node)}/");

    /// <summary>Which of c1..c3 listens on <paramref name="port"/>.</summary>
    public static string NodeAt(int port) => Nodes.Single(n => PortOf(n) == port);

    public static string NodeOf(RpcConnection connection) => NodeAt(connection.Endpoint.Port);

    public IList<Uri> Uris => Nodes.Select(UriOf).ToList();

    /// <summary>How long ./build.sh cluster start took for this run (the nodes may have been up already).</summary>
    public TimeSpan StartTime { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        await Build.RunAsync(new(), "cluster", "start");
        StartTime = clock.Elapsed;
    }

    public Task DisposeAsync() => Build.RunAsync(new(), "cluster", "stop");

    /// <summary>kill -9 of the node's Erlang VM: its connections drop without a close, as in a crash.</summary>
    public Task KillAsync(string node) => Build.RunAsync(new(), "cluster", "kill", node);

    /// <summary>A graceful stop of one node: it closes its connections (CONNECTION_FORCED) and leaves the cluster's running set.</summary>
    public Task StopAsync(string node) => Build.RunAsync(new(), "cluster", "stop", node);

    /// <summary>Starts the node again and returns when all three nodes run in one cluster.</summary>
    public Task RestartAsync(string node) => Build.RunAsync(new(), "cluster", "restart", node);

    /// <summary>Starts whatever is down (a no-op when all three run), so one failed test does not leave the next without a node.</summary>
    public async Task EnsureRunningAsync()
    {
        // rabbitmqctl takes seconds to boot; ask it only when a node does not even accept connections.
        if (!await AllListeningAsync()) await Build.RunAsync(new(), "cluster", "start");
    }

    private static async Task<bool> AllListeningAsync()
    {
        foreach (var node in Nodes)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", PortOf(node));
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }

        return true;
    }

    public Task<string> StatusAsync() => Build.RunAsync(new(), "cluster", "status");

    /// <summary>A plain RabbitMQ.Client connection to one node, for declaring, inspecting and deleting queues.</summary>
    public static Task<IConnection> RawAsync(string node) => new ConnectionFactory { Uri = UriOf(node) }.CreateConnectionAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterBroker>
{
    public const string Name = "cluster";
}
