using RpcGen.Client;
using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>The sweep itself, on the client's pending-call map alone (no broker involved: nothing here goes on the wire).</summary>
public sealed class TimeoutSweepTests
{
    [Fact]
    public async Task A_call_is_never_timed_out_before_it_is_due_even_while_the_sweep_runs_every_millisecond()
    {
        var method = new RpcMethodDescriptor("Work", Array.Empty<RpcParameterDescriptor>());
        _ = new RpcServiceDescriptor("Sweep", "sweep", method);
        var pending = new PendingCalls();

        // A call with a 10 ms timeout makes the sweep run every millisecond, and it must time out.
        var quick = pending.Create<int>(method, "sweep", TimeSpan.FromMilliseconds(10), null);
        pending.Add(quick, TimeSpan.FromMilliseconds(10), CancellationToken.None);

        // Meanwhile four threads keep a thousand calls each in the map, due in an hour, completing and replacing them:
        // the sweep walks the map while calls are being added, and none of them may time out.
        long early = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var mine = new Queue<PendingCall<int>>();
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
