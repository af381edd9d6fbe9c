using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Semantics;

[RpcService(Queue = "hop", TimeoutMilliseconds = 10_000)]
internal interface IHop
{
    Task<string> ForwardAsync(int depth, CancellationToken cancellationToken = default);
}

/// <summary>Each hop calls the next (the same service) with its own 10 s timeout; the last waits on its token.</summary>
internal sealed class Hop : IHop
{
    public IHop? Next;
    public ConcurrentDictionary<int, DateTimeOffset?> Deadlines { get; } = new();
    public ConcurrentDictionary<int, (DateTimeOffset At, TimeSpan Timeout)> InnerTimedOut { get; } = new();
    public ConcurrentDictionary<int, DateTimeOffset> TokenFired { get; } = new();
    public ConcurrentDictionary<int, string> InnerEndedBy { get; } = new();

    public async Task<string> ForwardAsync(int depth, CancellationToken cancellationToken = default)
    {
        Deadlines[depth] = RpcContext.Current!.Deadline;
        if (depth == 0)
        {
            try
            {
                await Task.Delay(30_000, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                TokenFired[depth] = DateTimeOffset.UtcNow;
                throw;
            }

            return "end";
        }

        try
        {
            return await Next!.ForwardAsync(depth - 1);
        }
        catch (RpcTimeoutException e)
        {
            InnerTimedOut[depth] = (DateTimeOffset.UtcNow, e.Timeout);
            throw;
        }
        catch (RpcException e)
        {
            // Every hop's deadline is the same instant, so the next hop's error reply (its own inner call timed out) can
            // beat this call's sweep, which fires up to 100 ms late: the inner call still ended by the outer deadline.
            InnerTimedOut[depth] = (DateTimeOffset.UtcNow, TimeSpan.Zero);
            InnerEndedBy[depth] = e.GetType().Name;
            throw;
        }
    }
}

[Collection(SemanticsCollection.Name)]
public sealed class DeadlineChainTests
{
    private readonly ITestOutputHelper _output;

    // Long enough that the last hop's request is consumed before it expires even on a loaded two-core CI host (at 1.5 s
    // it once expired in the queue unrun, so its token never fired); the assertions are relative to it.
    private static readonly TimeSpan OuterTimeout = TimeSpan.FromMilliseconds(4000);

    public DeadlineChainTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task In_a_three_hop_chain_no_inner_call_outlives_the_outer_deadline()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        var hop = new Hop();
        hop.Next = serving.CreateClient<IHop>();
        await broker.ServeAsync<IHop>(serving, hop);
        var client = (await broker.ConnectAsync()).CreateClient<IHop>();

        var started = DateTimeOffset.UtcNow;
        using (RpcCallOptions.WithTimeout(OuterTimeout))
        {
            var e = await Assert.ThrowsAsync<RpcTimeoutException>(() => client.ForwardAsync(2));
            Assert.Equal(OuterTimeout, e.Timeout);
        }

        await Wait.UntilAsync(() => hop.InnerTimedOut.Count == 2 && hop.TokenFired.ContainsKey(0), "both inner calls ended and the last hop was cancelled");

        // The outer deadline is the one the first hop received (the caller's publish time plus its timeout). How far it
        // lies past this test's clock reading before the call (JIT, serializer warm-up, a busy host) is a figure, not a promise.
        var outer = Assert.IsType<DateTimeOffset>(hop.Deadlines[2]);
        _output.WriteLine($"outer deadline {(outer - (started + OuterTimeout)).TotalMilliseconds:+0;-0} ms from the test's start + timeout");
        Assert.True(outer <= started + OuterTimeout + TimeSpan.FromSeconds(3), $"the first hop's deadline is {outer - started} after the call began, its timeout {OuterTimeout}");
        foreach (var depth in new[] { 1, 0 })
        {
            // The promise: every hop's deadline is the outer one (its caller cut its timeout to the time left). It is
            // recomputed from the clock, so it may land a few milliseconds later; 250 ms is generous for that.
            var deadline = Assert.IsType<DateTimeOffset>(hop.Deadlines[depth]);
            _output.WriteLine($"depth {depth}: deadline {(deadline - outer).TotalMilliseconds:+0;-0} ms from the outer one");
            Assert.True(deadline <= outer + TimeSpan.FromMilliseconds(250), $"hop {depth} got a deadline {deadline - outer} after the outer one");
        }

        foreach (var depth in new[] { 2, 1 })
        {
            var (at, timeout) = hop.InnerTimedOut[depth];
            _output.WriteLine($"depth {depth}: inner call timed out {(at - outer).TotalMilliseconds:+0;-0} ms from the outer deadline, its timeout {timeout.TotalMilliseconds:0} ms (its own: 10000)");
            if (hop.InnerEndedBy.TryGetValue(depth, out var endedBy)) _output.WriteLine($"depth {depth}: inner call ended by the next hop's {endedBy} reply");
            else Assert.True(timeout < OuterTimeout, $"hop {depth}'s inner call waited {timeout}");
            // Ended by the outer deadline, not its own 10 s: the sweep fires up to 100 ms late; the rest of 2 s is for a loaded host.
            Assert.True(at <= outer + TimeSpan.FromSeconds(2), $"hop {depth}'s inner call ended {at - outer} after the outer deadline");
        }

        _output.WriteLine($"depth 0: token fired {(hop.TokenFired[0] - outer).TotalMilliseconds:+0;-0} ms from the outer deadline");
        Assert.True(hop.TokenFired[0] <= outer + TimeSpan.FromSeconds(2), $"the last hop's token fired {hop.TokenFired[0] - outer} after the outer deadline");
    }

    [Fact]
    public async Task A_call_made_after_the_served_call_s_deadline_fails_at_once_without_being_sent()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        var late = new LateCaller { Next = serving.CreateClient<IHop>() };
        await broker.ServeAsync<ILateCaller>(serving, late);
        await using var peer = await RawAmqp.ConnectAsync();
        // The queue the late call would go to, watched: a call sent after all would show up here.
        broker.Track(broker.QueueName("hop"));
        await using var watcher = await RawAmqp.ConnectAsync();
        var sent = await watcher.RecordRequestsAsync(broker.QueueName("hop"));

        // A plain request whose deadline is 300 ms away; the handler waits 600 ms, then calls on.
        long deadline = DateTimeOffset.UtcNow.AddMilliseconds(300).ToUnixTimeMilliseconds();
        var reply = await peer.CallAsync(broker.QueueName("late"), "600", type: "CallLate",
            headers: new Dictionary<string, object?> { ["rpc-deadline"] = deadline });
        // Had it been published, it went out before the error reply; a moment more for its delivery to the watcher.
        await Task.Delay(500);
        Assert.Empty(sent);
        Assert.Equal("error", reply.Headers["rpc-status"]);
        Assert.Contains("RpcGen.RpcTimeoutException", System.Text.Encoding.UTF8.GetString(reply.Body));
        Assert.Contains("passed its deadline", System.Text.Encoding.UTF8.GetString(reply.Body));
    }
}

[RpcService(Queue = "late")]
internal interface ILateCaller
{
    Task<string> CallLateAsync(int waitMilliseconds);
}

internal sealed class LateCaller : ILateCaller
{
    public IHop? Next;

    public async Task<string> CallLateAsync(int waitMilliseconds)
    {
        await Task.Delay(waitMilliseconds);
        return await Next!.ForwardAsync(0);
    }
}
