using System.Diagnostics;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// A memory alarm makes the broker block publishers (connection.blocked): calls and one-way sends fail fast saying so,
/// nothing is published, the state is visible on RpcConnection, and calls succeed again once the alarm clears.
/// </summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class BlockedPublisherTests
{
    private readonly FaultBroker _broker;
    private readonly ITestOutputHelper _output;

    public BlockedPublisherTests(FaultBroker broker, ITestOutputHelper output)
    {
        _broker = broker;
        _output = output;
    }

    [Fact]
    public async Task While_the_broker_blocks_publishers_calls_and_sends_fail_fast_with_its_reason_and_succeed_after_it_unblocks()
    {
        await _broker.StartAsync();
        var logs = new LogCapture();
        var prefix = "blocked-" + Guid.NewGuid().ToString("N")[..8] + ".";
        await using var serving = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = _broker.Uri, QueuePrefix = prefix });
        await using var calling = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = _broker.Uri, QueuePrefix = prefix, LoggerFactory = logs });
        var service = new FaultService();
        await using var server = await serving.ServeAsync<IFaultService>(service);
        var client = calling.CreateClient<IFaultService>();
        Assert.Equal(1, await client.EchoAsync(1, null));
        Assert.False(calling.IsBlocked);
        Assert.Null(calling.BlockedReason);

        try
        {
            await _broker.CtlAsync("set_vm_memory_high_watermark", "0.0000001");
            // RabbitMQ tells a connection it is blocked (connection.blocked) only when it publishes during the alarm,
            // and stops reading it after that publish: this first call is the one that finds out.
            var watch = Stopwatch.StartNew();
            var first = await Assert.ThrowsAsync<RpcBrokerBlockedException>(() => client.EchoAsync(2, null));
            var firstFailedAfter = watch.Elapsed;
            _output.WriteLine($"the call that met the block failed after {firstFailedAfter.TotalMilliseconds:0} ms: {first.Message}");
            Assert.True(firstFailedAfter < TimeSpan.FromSeconds(5), $"failed only after {firstFailedAfter}"); // its timeout is 30 s
            Assert.True(calling.IsBlocked);
            _output.WriteLine($"blocked: {calling.BlockedReason} since {calling.BlockedSince:O}");
            Assert.Equal("low on memory", calling.BlockedReason);
            Assert.NotNull(calling.BlockedSince);
            Assert.True(calling.IsConnected);

            // From now on nothing is published: calls and one-way sends fail at once.
            watch.Restart();
            var call = await Assert.ThrowsAsync<RpcBrokerBlockedException>(() => client.EchoAsync(3, null));
            var callFailedAfter = watch.Elapsed;
            watch.Restart();
            var send = await Assert.ThrowsAsync<RpcBrokerBlockedException>(() => client.NoteAsync(4));
            var sendFailedAfter = watch.Elapsed;
            _output.WriteLine($"call failed after {callFailedAfter.TotalMilliseconds:0.0} ms, send after {sendFailedAfter.TotalMilliseconds:0.0} ms: {call.Message}");
            Assert.Equal("low on memory", call.Reason);
            Assert.Contains("blocks this connection's publishers (low on memory", call.Message);
            Assert.Contains("FaultService.Echo", call.Message);
            Assert.Contains("FaultService.Note", send.Message);
            Assert.True(callFailedAfter < TimeSpan.FromSeconds(2), $"failed only after {callFailedAfter}"); // issue bound 1 s, x2
            Assert.True(sendFailedAfter < TimeSpan.FromSeconds(2), $"failed only after {sendFailedAfter}");
            Assert.Equal(0, calling.PendingCallCount);
            Assert.True(logs.Has(RpcLogEvents.PublishersBlocked), "PublishersBlocked logged");
        }
        finally
        {
            await _broker.CtlAsync("set_vm_memory_high_watermark", "0.4");
        }

        await Wait.UntilAsync(() => !calling.IsBlocked, "the broker unblocked the connection", seconds: 20);
        var sinceUnblocked = Stopwatch.StartNew();
        Assert.Equal(4, await client.EchoAsync(4, null));
        _output.WriteLine($"first call after unblock: {sinceUnblocked.ElapsedMilliseconds} ms");
        Assert.True(logs.Has(RpcLogEvents.PublishersUnblocked), "PublishersUnblocked logged");
        Assert.Null(calling.BlockedSince);
        // The one-way request refused while blocked was never sent.
        await client.NoteAsync(5);
        await Wait.UntilAsync(() => service.Notes.Contains(5), "the send after unblock arrived");
        Assert.DoesNotContain(4, service.Notes);
    }
}
