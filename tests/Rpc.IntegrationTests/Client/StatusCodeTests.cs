using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.DurableWork;
using RpcGen.IntegrationTests.Shapes.Faults;
using RpcGen.TestServer;
using Xunit;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>
/// Every RpcGen exception is an RpcException with a status code: one catch handles timeouts and failures alike, and the
/// status of an error reply follows its type.
/// </summary>
public sealed class StatusCodeTests
{
    [Fact]
    public async Task Catching_RpcException_catches_a_timeout_as_DeadlineExceeded()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        RpcException? caught = null;
        try
        {
            await shop.HoldAsync(3000);
        }
        catch (RpcException e)
        {
            caught = e;
        }

        Assert.IsType<RpcTimeoutException>(caught);
        Assert.Equal(RpcStatusCode.DeadlineExceeded, caught.StatusCode);
    }

    [Fact]
    public async Task A_handler_exception_is_Remote_a_refused_request_follows_its_error_type_and_no_server_is_Unavailable()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Server.MaxRequestBodySize = 64), new Shop());
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        var thrown = await Assert.ThrowsAsync<RpcRemoteException>(() => shop.BreakAsync());
        Assert.Equal(RpcStatusCode.Remote, thrown.StatusCode);

        var tooLarge = await Assert.ThrowsAsync<RpcRemoteException>(() => shop.HeaderAsync(new string('x', 200)));
        Assert.Equal(RpcErrorTypes.TooLarge, tooLarge.RemoteType);
        Assert.Equal(RpcStatusCode.ResourceExhausted, tooLarge.StatusCode);

        var nobody = (await broker.ConnectAsync()).CreateClient<IWorkService>();
        var unavailable = await Assert.ThrowsAnyAsync<RpcException>(() => nobody.DoAsync(1, 0));
        Assert.IsType<RpcServiceUnavailableException>(unavailable);
        Assert.Equal(RpcStatusCode.Unavailable, unavailable.StatusCode);
    }

    [Fact]
    public async Task Work_the_broker_refuses_with_a_nack_is_Unavailable()
    {
        await using var broker = new TestBroker();
        broker.Track(broker.QueueName("ledger"));
        // Full from the start and refusing publishes: the broker nacks every request sent to it.
        var rpc = await broker.ConnectAsync(o => o.Topology.Queues["ledger"] = new RpcQueueTopology
        {
            Mode = RpcTopologyMode.DeclareAsGiven,
            Arguments = { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" },
        });

        var refused = await Assert.ThrowsAsync<RpcException>(() => rpc.CreateClient<ILedger>().AppendAsync(1));
        Assert.Contains("(nack)", refused.Message);
        Assert.Equal(RpcStatusCode.Unavailable, refused.StatusCode);
    }
}
