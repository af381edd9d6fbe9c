using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>Retries back off: they are spaced, not back to back.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class FailedWorkTimingTests
{
    private readonly ITestOutputHelper _output;

    public FailedWorkTimingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Retries_back_off_one_second_then_two_by_default()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.RetryLimit = 2);
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);

        await rpc.CreateClient<IFailingWork>().FailAsync(1);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "dead-lettered", seconds: 20);

        var at = work.RunsOf("Fail").Select(r => r.At).ToArray();
        Assert.Equal(3, at.Length);
        var gaps = new[] { at[1] - at[0], at[2] - at[1] };
        _output.WriteLine($"gaps between tries: {gaps[0].TotalMilliseconds:0} ms, {gaps[1].TotalMilliseconds:0} ms");
        Assert.True(gaps[0] >= TimeSpan.FromMilliseconds(950), $"first retry after {gaps[0]}");
        Assert.True(gaps[1] >= TimeSpan.FromMilliseconds(1950), $"second retry after {gaps[1]}");
    }

    [Fact]
    public async Task A_services_own_backoff_overrides_the_default_and_every_wait_is_capped()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 3;
            o.Server.RetryBackoff = TimeSpan.FromSeconds(10);
            o.Server.MaxRetryBackoff = TimeSpan.FromMilliseconds(400);
        });
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work, own => own.RetryBackoff = TimeSpan.FromMilliseconds(300));

        await rpc.CreateClient<IFailingWork>().FailAsync(1);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "dead-lettered", seconds: 20);

        var at = work.RunsOf("Fail").Select(r => r.At).ToArray();
        Assert.Equal(4, at.Length);
        var gaps = at.Skip(1).Zip(at, (later, earlier) => later - earlier).ToArray();
        _output.WriteLine("gaps between tries: " + string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0} ms")));
        // 300 ms, then 600 ms capped to 400, twice; never the 10 s default.
        Assert.True(gaps[0] >= TimeSpan.FromMilliseconds(280), $"first retry after {gaps[0]}");
        Assert.True(gaps[1] >= TimeSpan.FromMilliseconds(380) && gaps[2] >= TimeSpan.FromMilliseconds(380), $"later retries after {gaps[1]}, {gaps[2]}");
        Assert.True(gaps.All(g => g < TimeSpan.FromSeconds(5)), "the service's own backoff and the cap applied");
    }
}
