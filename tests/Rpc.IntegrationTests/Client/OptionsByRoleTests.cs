using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>
/// Options are copied when a connection opens (the user's objects may change afterwards without effect), and a
/// served service may have server options of its own beside the connection's defaults.
/// </summary>
public sealed class OptionsByRoleTests
{
    [Fact]
    public async Task Changing_the_options_after_connect_changes_nothing_on_the_open_connection()
    {
        await using var broker = new TestBroker();
        var options = broker.Options(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(10));
        var rpc = await RpcConnection.ConnectAsync(options);
        await using var _ = rpc;

        options.Client.DefaultTimeout = TimeSpan.FromMilliseconds(50);
        options.QueuePrefix = "elsewhere.";
        options.Server.MaxRequestBodySize = 1;

        var server = await broker.ServeAsync<IShop>(rpc, new Shop());
        Assert.StartsWith(broker.Prefix, server.Queue);
        // Runs past the mutated 50 ms timeout with a body over the mutated 1-byte limit: the connection kept its copy.
        Assert.Equal(300, await rpc.CreateClient<IShop>().WaitAsync(300));
        Assert.Equal(TimeSpan.FromSeconds(10), rpc.Settings.DefaultTimeout);
    }

    [Fact]
    public async Task A_service_served_with_its_own_Prefetch_runs_that_many_calls_at_once_beside_the_connections_default()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.Prefetch = 8);
        var own = new ConcurrencyShop();
        await broker.ServeAsync<IShop>(rpc, own, server => server.Prefetch = 1);
        var client = rpc.CreateClient<IShop>();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.WaitAsync(100)));

        Assert.Equal(1, own.MaxConcurrent);
        Assert.Equal(8, rpc.Settings.Prefetch);
    }

    [Fact]
    public async Task A_services_own_options_are_checked_naming_the_service()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => rpc.ServeAsync<IShop>(new Shop(), server => server.Prefetch = 0));
        Assert.Contains("RpcServerOptions.Prefetch must be at least 1 (service Shop)", error.Message);
    }
}
