using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// Timeouts fire from one sweep per connection (Client/PendingCalls.cs), which stops when nothing is pending: a call
/// made after it stopped must still time out, or it would wait forever.
/// </summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task Calls_time_out_before_and_after_the_idle_timeout_sweep_stops_and_restarts()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromMilliseconds(300));
        var calculator = calling.CreateClient<ICalculator>();
        var pending = calling.Invoker.PendingCalls;

        var first = await Assert.ThrowsAsync<RpcTimeoutException>(() => calculator.SlowAsync(5000));
        Assert.Contains("300 ms", first.Message);
        Assert.Equal(0, calling.PendingCallCount);

        // Nothing pending: the sweep stops (ten idle periods of 30 ms here) ...
        await Wait.UntilAsync(() => !pending.IsSweeping, "the timeout sweep stopped while idle");

        // ... and the next call starts it again, so it times out too, and a fast call still succeeds.
        var again = Task.Run(() => calculator.SlowAsync(5000));
        Assert.Equal(5, await calculator.AddAsync(2, 3));
        await Assert.ThrowsAsync<RpcTimeoutException>(() => again.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, calling.PendingCallCount);
    }
}
