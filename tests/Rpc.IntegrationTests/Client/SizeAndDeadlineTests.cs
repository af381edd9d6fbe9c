using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>Sizes are checked before anything is published; handlers see their caller's deadline and stop at it.</summary>
public sealed class SizeAndDeadlineTests
{
    [Fact]
    public async Task A_request_over_MaxMessageSize_fails_at_once_and_is_not_sent()
    {
        await using var broker = new TestBroker();
        var service = new FaultService();
        var serving = await broker.ConnectAsync();
        var server = await broker.ServeAsync<IFaultService>(serving, service);
        var calling = await broker.ConnectAsync(o => o.MaxMessageSize = 64 * 1024);
        var client = calling.CreateClient<IFaultService>();

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcMessageTooLargeException>(() => client.EchoAsync(1, new string('x', 100_000)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"failed only after {watch.Elapsed}");
        Assert.Equal(64 * 1024, e.Limit);
        Assert.True(e.Size > 100_000);
        Assert.Contains("FaultService.Echo", e.Message);
        Assert.Contains("MaxMessageSize", e.Message);

        Assert.Equal(2, await client.EchoAsync(2, null));
        Assert.Equal(1, server.Served); // only the call that fit reached the server
        Assert.Equal(0, calling.PendingCallCount);
    }

    [Fact]
    public async Task A_reply_over_the_servers_MaxMessageSize_becomes_an_rpc_too_large_error_reply()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync(o => o.MaxMessageSize = 4 * 1024);
        await broker.ServeAsync<IFaultService>(serving, new FaultService());
        var client = (await broker.ConnectAsync()).CreateClient<IFaultService>();

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => client.MakeAsync(10_000, always: true));
        Assert.Equal("rpc:too-large", e.RemoteType);
        Assert.Contains("MaxMessageSize", e.RemoteMessage);
        Assert.Equal(1000, (await client.MakeAsync(1000, always: true)).Length);
    }

    [Fact]
    public async Task A_handler_sees_its_callers_deadline_and_its_token_fires_when_it_passes()
    {
        await using var broker = new TestBroker();
        var service = new FaultService();
        var serving = await broker.ConnectAsync();
        var server = await broker.ServeAsync<IFaultService>(serving, service);
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(1));
        var client = calling.CreateClient<IFaultService>();

        var before = DateTimeOffset.UtcNow;
        await Assert.ThrowsAsync<RpcTimeoutException>(() => client.WaitForCancellationAsync());
        // The handler, which waits up to 30 s on its token, stops at the caller's deadline and frees its slot.
        await Wait.UntilAsync(() => !service.Waits.IsEmpty, "the handler returned after its token fired");
        var (deadline, waited, cancelled) = Assert.Single(service.Waits);
        Assert.True(cancelled);
        Assert.NotNull(deadline);
        Assert.InRange(deadline!.Value, before.AddMilliseconds(900), before.AddSeconds(5));
        Assert.True(waited < TimeSpan.FromSeconds(10), $"the handler's token fired only after {waited}");
        await Wait.UntilAsync(() => server.InFlight == 0, "the slot is free");
    }
}
