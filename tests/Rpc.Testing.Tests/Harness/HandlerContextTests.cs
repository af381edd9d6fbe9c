using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>A handler is a plain class: a test runs it with the context it builds, or over the harness with the context the broker gives.</summary>
public sealed class HandlerContextTests
{
    [Fact]
    public async Task A_handler_runs_with_a_context_the_test_builds()
    {
        var calc = new Calc();
        using (new RpcContext("Calc", "WhoAmI", userId: "alice", redelivered: true).MakeCurrent())
        {
            Assert.Equal("alice redelivered=True", await calc.WhoAmIAsync());
        }
    }

    [Fact]
    public async Task Over_the_harness_a_handler_sees_the_authenticated_user_and_a_simulated_redelivery()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.UserName = "shop-frontend");
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = harness.Connection.CreateClient<ICalc>();

        Assert.Equal("shop-frontend redelivered=False", await calc.WhoAmIAsync());
        harness.RedeliverNext<ICalc>();
        Assert.Equal("shop-frontend redelivered=True", await calc.WhoAmIAsync());
        Assert.Equal("shop-frontend redelivered=False", await calc.WhoAmIAsync());

        var delivered = harness.Find<ICalc>(RpcTestEventKind.Delivered, c => c.WhoAmIAsync);
        Assert.Equal([false, true, false], delivered.Select(r => r.Redelivered));
    }
}
