using RabbitMQ.Client;
using RpcGen.TestServer;
using Xunit;

namespace RpcGen.IntegrationTests.Cluster;

/// <summary>Client and server on different nodes: the request crosses the cluster to the queue, the reply (direct reply-to) crosses back.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CrossNodeTests
{
    private readonly ClusterBroker _cluster;

    public CrossNodeTests(ClusterBroker cluster) => _cluster = cluster;

    [Theory]
    [InlineData(RpcQueueType.Classic)]
    [InlineData(RpcQueueType.Quorum)]
    public async Task Direct_reply_to_works_with_the_client_on_one_node_and_the_server_on_another(RpcQueueType queueType)
    {
        await _cluster.EnsureRunningAsync();
        var prefix = $"cross-{queueType}-{Guid.NewGuid():N}.";
        RpcConnectionOptions On(string node) => new() { Uri = ClusterBroker.UriOf(node), QueuePrefix = prefix, Topology = { QueueType = queueType }, Client = { DefaultTimeout = TimeSpan.FromSeconds(10) } };
        await using var serverConnection = await RpcConnection.ConnectAsync(On("c2"));
        await using var clientConnection = await RpcConnection.ConnectAsync(On("c1"));
        try
        {
            await using var server = await serverConnection.ServeAsync<IWorkService>(new WorkService("on c2"));
            Assert.Equal("c2", ClusterBroker.NodeOf(serverConnection));
            Assert.Equal("c1", ClusterBroker.NodeOf(clientConnection));

            var work = clientConnection.CreateClient<IWorkService>();
            var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => work.DoAsync(i, 0)));

            Assert.Equal(Enumerable.Range(0, 50), results.Select(r => r.Id));
            Assert.All(results, r => Assert.Equal("on c2", r.Server));
        }
        finally
        {
            await using var raw = await ClusterBroker.RawAsync("c3");
            await using var channel = await raw.CreateChannelAsync();
            await channel.QueueDeleteAsync(prefix + "work");
            await channel.QueueDeleteAsync(prefix + "work" + Transport.QueueDeclarations.DeadLetterSuffix);
        }
    }

    [Fact]
    public async Task A_connection_given_the_node_list_opens_on_one_of_the_nodes()
    {
        await _cluster.EnsureRunningAsync();
        await using var rpc = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uris = _cluster.Uris });
        Assert.Contains(ClusterBroker.NodeOf(rpc), ClusterBroker.Nodes);
    }
}
