using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>What brokers do to applications, on request: a service down, a lost reply, a blocked connection.</summary>
public sealed class SimulationTests
{
    [Fact]
    public async Task A_service_down_fails_calls_as_on_a_broker_and_its_one_way_work_waits_for_it()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.ConfigureConnection = c => c.Client.ServerCheckDelay = TimeSpan.FromMilliseconds(100));
        await using var calcServer = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var work = new Work();
        await using var workServer = await harness.Connection.ServeAsync<IWork>(work);
        var calc = harness.Connection.CreateClient<ICalc>();

        using (harness.SimulateServiceDown<ICalc>())
        {
            await Assert.ThrowsAsync<RpcRequestQueuedException>(() => calc.AddAsync(1, 2));
            await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => calc.AddAsync(1, 2));
        }

        Assert.Equal(3, await calc.AddAsync(1, 2));

        using (harness.SimulateServiceDown<IWork>())
        {
            await harness.Connection.CreateClient<IWork>().DoAsync("while-down");
            Assert.Equal(1, harness.MessageCount(harness.QueueOf<IWork>()));
        }

        await harness.WaitForHandledAsync<IWork>(w => w.DoAsync);
        Assert.Equal(["while-down"], work.Done);
    }

    [Theory]
    [InlineData(RpcReplyQueue.Automatic)]       // the connection's own reply queue
    [InlineData(RpcReplyQueue.DirectReplyTo)]
    public async Task A_dropped_reply_leaves_the_call_to_its_timeout_on_the_fake_clock(RpcReplyQueue replyQueue)
    {
        await using var harness = await RpcTestHarness.StartAsync(o =>
        {
            o.UseFakeTime = true;
            o.ConfigureConnection = c => c.Client.ReplyQueue = replyQueue;
        });
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = harness.Connection.CreateClient<ICalc>();

        harness.DropNextReply();
        Task<int> call;
        using (RpcCallOptions.WithTimeout(TimeSpan.FromSeconds(5))) call = calc.AddAsync(1, 2);
        await harness.WaitForHandledAsync<ICalc>(c => c.AddAsync);
        await harness.WaitForAsync<ICalc>(RpcTestEventKind.Answered, c => c.AddAsync);
        Assert.False(call.IsCompleted);

        harness.AdvanceTime(TimeSpan.FromSeconds(6));
        await Assert.ThrowsAsync<RpcTimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, await calc.AddAsync(1, 2));
    }

    [Fact]
    public async Task A_blocked_connection_fails_calls_at_once_until_it_is_unblocked()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = harness.Connection.CreateClient<ICalc>();

        await harness.BlockConnectionsAsync("low on memory");
        Assert.True(harness.Connection.IsBlocked);
        Assert.Equal("low on memory", harness.Connection.BlockedReason);
        await Assert.ThrowsAsync<RpcBrokerBlockedException>(() => calc.AddAsync(1, 2));

        await harness.UnblockConnectionsAsync();
        Assert.False(harness.Connection.IsBlocked);
        Assert.Equal(3, await calc.AddAsync(1, 2));
    }
}
