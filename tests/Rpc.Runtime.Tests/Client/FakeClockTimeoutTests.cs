using Microsoft.Extensions.Time.Testing;
using RpcGen.Client;
using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>A call's timeout runs on the connection's <see cref="TimeProvider"/>: a test moves it instead of sleeping.</summary>
public sealed class FakeClockTimeoutTests
{
    [Fact]
    public async Task A_call_times_out_when_the_fake_clock_passes_its_timeout_and_not_before()
    {
        var method = new RpcMethodDescriptor("Work", Array.Empty<RpcParameterDescriptor>());
        _ = new RpcServiceDescriptor("FakeClock", "fake-clock", method);
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var pending = new PendingCalls(time: time);
        var call = pending.Create<int>(method, "fake-clock", TimeSpan.FromSeconds(30), null);
        pending.Add(call, TimeSpan.FromSeconds(30), CancellationToken.None);

        // The deadline sent with the request is on the same clock.
        Assert.Equal(time.GetUtcNow().AddSeconds(30).ToUnixTimeMilliseconds(), call.Deadline);

        time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.True(call.IsPending, "the call timed out before the fake clock reached its timeout");

        time.Advance(TimeSpan.FromSeconds(0.2));
        var failure = await Assert.ThrowsAsync<RpcTimeoutException>(() => call.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("FakeClock", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, pending.Count);
    }
}
