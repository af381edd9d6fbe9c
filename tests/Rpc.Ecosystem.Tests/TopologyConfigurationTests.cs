using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RpcGen.Ecosystem.Tests;

/// <summary>Queue and exchange topologies from configuration: <c>RpcGen:Topology:Queues</c> and <c>:Exchanges</c> (docs/interop.md).</summary>
public sealed class TopologyConfigurationTests
{
    [Fact]
    public void A_mode_alone_or_a_section_with_durability_and_arguments_sets_a_topology()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            ["RpcGen:Topology:Queues:audit"] = "UseExisting",
            ["RpcGen:Topology:Queues:task_queue:Mode"] = "DeclareAsGiven",
            ["RpcGen:Topology:Queues:task_queue:Arguments:x-queue-type"] = "quorum",
            ["RpcGen:Topology:Queues:task_queue:Arguments:x-max-length"] = "1000",
            ["RpcGen:Topology:Exchanges:topic_logs:Mode"] = "declareasgiven",
            ["RpcGen:Topology:Exchanges:topic_logs:Durable"] = "false",
        });

        Assert.Same(RpcQueueTopology.UseExisting, options.Topology.Queues["audit"]);
        var tasks = options.Topology.Queues["task_queue"];
        Assert.Equal(RpcTopologyMode.DeclareAsGiven, tasks.Mode);
        Assert.True(tasks.Durable);
        Assert.Equal("quorum", tasks.Arguments["x-queue-type"]);
        Assert.Equal(1000, tasks.Arguments["x-max-length"]);
        var logs = options.Topology.Exchanges["topic_logs"];
        Assert.Equal(RpcTopologyMode.DeclareAsGiven, logs.Mode);
        Assert.False(logs.Durable);
        Assert.Empty(logs.Arguments);
    }

    [Theory]
    [InlineData("RpcGen:Topology:Queues:q", "Borrow", "'RpcGen:Topology:Queues:q' is 'Borrow'; expected Declare, UseExisting or DeclareAsGiven")]
    [InlineData("RpcGen:Topology:Exchanges:x:Type", "fanout", "'RpcGen:Topology:Exchanges:x:Type' is not a topology setting")]
    [InlineData("RpcGen:Topology:Queues:q:Durable", "false", "'RpcGen:Topology:Queues:q' sets Durable or Arguments, which only Mode DeclareAsGiven uses")]
    public void A_topology_mistake_fails_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Bind(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(expected, error.Message);
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
