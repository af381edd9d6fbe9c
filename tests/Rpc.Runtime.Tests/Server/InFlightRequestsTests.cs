using RpcGen.Server;
using Xunit;

namespace RpcGen.Runtime.Tests.Server;

/// <summary>
/// Server/InFlightRequests.cs alone: draining wakes when the last delivery is settled, however long the drain timeout,
/// and gives up at the timeout or when its token fires.
/// </summary>
public sealed class InFlightRequestsTests
{
    private static readonly TimeSpan Forever = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Draining_ends_when_the_last_delivery_is_settled_not_at_the_drain_timeout()
    {
        var inFlight = new InFlightRequests();
        inFlight.Enter();
        inFlight.Enter();

        var drained = inFlight.WhenIdleAsync(Forever, CancellationToken.None);
        inFlight.Exit();
        await Task.Delay(50);
        Assert.False(drained.IsCompleted, "one delivery is still in flight");

        inFlight.Exit();
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, inFlight.Count);
    }

    [Fact]
    public async Task Draining_with_nothing_in_flight_ends_at_once_and_a_delivery_that_comes_and_goes_meanwhile_does_not_stop_it()
    {
        var inFlight = new InFlightRequests();
        await inFlight.WhenIdleAsync(Forever, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        inFlight.Enter();
        var drained = inFlight.WhenIdleAsync(Forever, CancellationToken.None);
        inFlight.Enter();
        inFlight.Exit();
        inFlight.Exit();
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Draining_gives_up_at_its_timeout_or_its_token_without_throwing()
    {
        var inFlight = new InFlightRequests();
        inFlight.Enter();

        await inFlight.WhenIdleAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        using var stop = new CancellationTokenSource();
        var drained = inFlight.WhenIdleAsync(Forever, stop.Token);
        stop.Cancel();
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, inFlight.Count);
    }
}
