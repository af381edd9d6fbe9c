using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RpcGen.Diagnostics;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>RpcConnectionOptions.Uris, RpcTopologyOptions.QueueType and QueueTypes from configuration, and a node list connecting to the node that answers.</summary>
public sealed class ClusterOptionsTests
{
    [Fact]
    public void Uris_QueueType_and_QueueTypes_bind_from_the_RpcGen_section()
    {
        var options = Bind(new()
        {
            ["RpcGen:Uris:0"] = "amqp://app:pw@rabbit-1:5672/prod",
            ["RpcGen:Uris:1"] = "amqp://app:pw@rabbit-2:5672/prod",
            ["RpcGen:Uris:2"] = "amqp://app:pw@rabbit-3:5672/prod",
            ["RpcGen:Topology:QueueType"] = "quorum",
            ["RpcGen:Topology:QueueTypes:Telemetry"] = "Classic",
            ["RpcGen:Topology:QuorumDeliveryLimit"] = "3",
        });

        Assert.Equal(new[] { "rabbit-1", "rabbit-2", "rabbit-3" }, options.Uris.Select(u => u.Host));
        Assert.Equal(RpcQueueType.Quorum, options.Topology.QueueType);
        Assert.Equal(RpcQueueType.Classic, options.Topology.QueueTypes["Telemetry"]);
        Assert.Equal(3, options.Topology.QuorumDeliveryLimit);
    }

    [Theory]
    [InlineData("RpcGen:Topology:QueueType", "Mirrored", "'RpcGen:Topology:QueueType' is 'Mirrored'; expected Classic or Quorum")]
    [InlineData("RpcGen:Topology:QueueType", "7", "'RpcGen:Topology:QueueType' is '7'; expected Classic or Quorum")]
    [InlineData("RpcGen:Uris:0", "http://app:hunter2@rabbit-1/", "'RpcGen:Uris:0' is not an absolute amqp:// or amqps:// URI")]
    [InlineData("RpcGen:Uris", "amqp://app:hunter2@rabbit-1/", "'RpcGen:Uris' must be a section ('RpcGen:Uris:0'")]
    [InlineData("RpcGen:Topology:QuorumDeliveryLimit", "many", "'RpcGen:Topology:QuorumDeliveryLimit' is 'many'")]
    public void A_cluster_setting_mistake_fails_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Bind(new() { [key] = value }));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task Node_uris_that_differ_in_more_than_host_and_port_are_refused()
    {
        var options = new RpcConnectionOptions
        {
            Uris = { new Uri("amqp://app:hunter2@rabbit-1/prod"), new Uri("amqp://app:hunter2@rabbit-2/staging") },
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => RpcConnection.ConnectAsync(options));
        Assert.Contains("must differ in host and port only", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task A_node_list_connects_to_the_node_that_answers_and_the_log_names_it()
    {
        var logs = new CapturedLogs();
        using var factory = logs.CreateFactory();
        var down = new UriBuilder(TestBroker.Uri) { Port = 1 }.Uri; // nothing listens on port 1: refused at once
        var options = new RpcConnectionOptions { Uris = { down, TestBroker.Uri, down }, LoggerFactory = factory };

        // The endpoints are tried in random order, so a few connections see the dead one first and move on.
        for (var i = 0; i < 3; i++)
        {
            await using var rpc = await RpcConnection.ConnectAsync(options);
        }

        var connected = logs.WithEventId(RpcLogEvents.Connected).ToArray();
        Assert.Equal(3, connected.Length);
        Assert.All(connected, e => Assert.Contains($"localhost:{TestBroker.Uri.Port}/", e.Message));
    }

    [Fact]
    public async Task A_node_list_of_which_no_node_answers_fails_naming_them_all()
    {
        var options = new RpcConnectionOptions { Uris = { new Uri("amqp://guest:secret@127.0.0.1:1/"), new Uri("amqp://guest:secret@127.0.0.1:2/") } };

        var error = await Assert.ThrowsAsync<RpcConnectionException>(() => RpcConnection.ConnectAsync(options));
        Assert.Contains("any of amqp://guest:***@127.0.0.1:1/, amqp://guest:***@127.0.0.1:2/", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    private static RpcConnectionOptions Bind(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddRpcGen();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RpcConnectionOptions>>().Value;
    }
}
