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

/// <summary>The sweep itself, on the client's pending-call map alone (no broker involved: nothing here goes on the wire).</summary>
public sealed class TimeoutSweepTests
{
    [Fact]
    public async Task A_call_is_never_timed_out_before_it_is_due_even_while_the_sweep_runs_every_millisecond()
    {
        var method = new RpcMethodDescriptor("Work", Array.Empty<RpcParameterDescriptor>());
        _ = new RpcServiceDescriptor("Sweep", "sweep", method);
        var pending = new Client.PendingCalls();

        // A call with a 10 ms timeout makes the sweep run every millisecond, and it must time out.
        var quick = pending.Create<int>(method, "sweep", TimeSpan.FromMilliseconds(10), null);
        pending.Add(quick, TimeSpan.FromMilliseconds(10), CancellationToken.None);

        // Meanwhile four threads keep a thousand calls each in the map, due in an hour, completing and replacing them:
        // the sweep walks the map while calls are being added, and none of them may time out.
        long early = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var mine = new Queue<Client.PendingCall<int>>();
            for (int i = 0; i < 50_000; i++)
            {
                var call = pending.Create<int>(method, "sweep", TimeSpan.FromHours(1), null);
                pending.Add(call, TimeSpan.FromHours(1), CancellationToken.None);
                mine.Enqueue(call);
                if (mine.Count < 1000) continue;
                var oldest = mine.Dequeue();
                if (!pending.TryComplete(oldest.CorrelationId, "7"u8, isError: false)) Interlocked.Increment(ref early);
            }

            while (mine.TryDequeue(out var call))
            {
                if (!pending.TryComplete(call.CorrelationId, "7"u8, isError: false)) Interlocked.Increment(ref early);
            }
        })));

        await Assert.ThrowsAsync<RpcTimeoutException>(() => quick.Task);
        Assert.Equal(0, Interlocked.Read(ref early));
        Assert.Equal(0, pending.Count);
    }
}
