using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Security;
using RpcGen.IntegrationTests.Shapes.Streaming;
using Xunit;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// The caller's end of stream credit (review finding 14): a caller never holds more than the window it granted, whatever
/// the server sends, and never asks for an unbounded window.
/// </summary>
[Collection(StreamingCollection.Name)]
public sealed class StreamCreditTests
{
    [Fact]
    public async Task A_server_ignoring_credit_fails_the_stream_with_a_protocol_error_instead_of_filling_the_caller()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("Counter");
        await using var hostile = await HostileScript.StartAsync(broker, queue, "--mode", "flood", "--items", "10000", "--batch", "100", "--seconds", "60");
        var rpc = await broker.ConnectAsync(o => o.Client.StreamWindow = 8);
        var client = rpc.CreateClient<ICounter>();

        await using var stream = client.CountAsync(10_000).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        // Everything is on its way before the reader takes a second item: nothing but the caller's check stops it.
        await hostile.WaitForLineAsync("sent 10000", TimeSpan.FromSeconds(30));
        Assert.Contains("window 8", hostile.Output);

        int taken = 1;
        var failure = await Record.ExceptionAsync(async () =>
        {
            while (await stream.MoveNextAsync()) taken++;
        });

        Assert.True(failure is not null, $"the caller took all {taken} items a server sent with a window of 8");
        var protocol = Assert.IsType<RpcException>(failure);
        Assert.Equal("Counter", protocol.Service);
        Assert.Contains("Counter.Count", protocol.Message);
        Assert.Contains($"queue '{queue}'", protocol.Message);
        Assert.Contains("window 8", protocol.Message);
        Assert.Contains("item 8", protocol.Message);
        Assert.Equal(8, taken);
        Assert.Equal(1, rpc.Invoker.PendingCalls.RejectedReplies);
        Assert.Equal(0, rpc.PendingCallCount);
    }

    [Theory]
    [InlineData("sequence", "carries sequence number 5 where 1 was due")]
    [InlineData("kind", "unknown kind 'more'")]
    public async Task A_stream_message_out_of_sequence_or_of_unknown_kind_fails_the_stream_clearly_and_is_logged_and_counted(string broken, string says)
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("Counter");
        await using var server = await HostileServer.StartAsync(broker, queue, async (peer, request) =>
        {
            var id = request.Properties.CorrelationId;
            await peer.SendAsync(request.Properties.ReplyTo!, id, "[0]"u8.ToArray(), Stream("items", 0));
            await peer.SendAsync(request.Properties.ReplyTo!, id, "[1]"u8.ToArray(), broken == "sequence" ? Stream("items", 5) : Stream("more", 1));
        });
        var logs = new Semantics.CapturingLoggerFactory();
        var rpc = await broker.ConnectAsync(o => o.LoggerFactory = logs);

        var items = new List<int>();
        var failure = await Record.ExceptionAsync(async () =>
        {
            await foreach (var item in rpc.CreateClient<ICounter>().CountAsync(2)) items.Add(item);
        });

        var protocol = Assert.IsType<RpcException>(failure);
        Assert.Contains(says, protocol.Message);
        Assert.Contains($"Counter.Count (queue '{queue}')", protocol.Message);
        Assert.Equal([0], items);
        Assert.Equal(1, rpc.Invoker.PendingCalls.RejectedReplies);
        var logged = Assert.Single(logs.Events, e => e.EventId == RpcGen.Diagnostics.RpcLogEvents.ReplyRejected);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, logged.Level);
        Assert.Contains(says, logged.Message);
        Assert.Contains(queue, logged.Message);
    }

    private static Dictionary<string, object?> Stream(string kind, long sequence) => new() { ["rpc-stream"] = kind, ["rpc-stream-seq"] = sequence };

    [Fact]
    public async Task The_window_a_caller_asks_for_is_bounded()
    {
        var options = new RpcConnectionOptions { Uri = TestBroker.Uri, Client = { StreamWindow = 65_537 } };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => RpcConnection.ConnectAsync(options));
        Assert.Contains("RpcClientOptions.StreamWindow", e.Message);
        Assert.Contains("65536", e.Message.Replace(",", ""));
    }
}
