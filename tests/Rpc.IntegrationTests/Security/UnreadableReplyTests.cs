using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Semantics;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A reply the client cannot read fails its call at once, with an exception that says why and names the service,
/// method and queue; no such reply leaves a call pending (review finding 4). A raw RabbitMQ.Client server answers each
/// call with the reply its mode names: error bodies with invalid UTF-8, a declared fault whose constructor throws on its
/// data, bodies that are not the result type, for plain calls and for streams (a plain reply, an error marker, items).
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class UnreadableReplyTests
{
    // 0xC3 0x28: a two-byte UTF-8 lead byte followed by an ASCII byte, invalid UTF-8 inside a JSON string.
    private static readonly byte[] BadUtf8Error = Concat("""{"type":"System.InvalidOperationException","message":"caf"""u8.ToArray(), [0xC3, 0x28], "\"}"u8.ToArray());
    private static readonly byte[] ThrowingFault = """{"type":"RpcGen.IntegrationTests.Security.StrictFaultException","message":"m","data":{}}"""u8.ToArray();

    /// <summary>Generous: the promise is "at once", and the call's own timeout (20 s) is far away.</summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    public static TheoryData<string, string> Calls => new()
    {
        { "error-bad-utf8", "invalid UTF-8" },
        { "fault-throws", "NullReferenceException" },
        { "result-not-json", "not a valid String" },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task A_call_whose_reply_cannot_be_read_fails_at_once_naming_service_method_queue_and_why(string mode, string why)
    {
        await using var broker = new TestBroker();
        await using var server = await StartBrokenServerAsync(broker);
        var rpc = await broker.ConnectAsync();
        var client = rpc.CreateClient<IBrokenReplies>();

        Task<string> call;
        using (RpcCallOptions.WithTimeout(CallTimeout)) call = client.GetAsync(mode);
        var failure = await FailsWithinAsync(call, $"the call answered '{mode}'");

        Assert.True(failure is RpcRemoteException or RpcSerializationException, failure.ToString());
        AssertSays(failure, broker, why);
        Assert.Equal(0, rpc.PendingCallCount);
    }

    public static TheoryData<string, string> Streams => new()
    {
        { "stream-reply-bad-utf8", "invalid UTF-8" },
        { "stream-marker-bad-utf8", "invalid UTF-8" },
        { "stream-marker-fault-throws", "NullReferenceException" },
        { "stream-items-not-int", "not a valid Int32" },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task A_stream_whose_message_cannot_be_read_fails_at_once_naming_service_method_queue_and_why(string mode, string why)
    {
        await using var broker = new TestBroker();
        await using var server = await StartBrokenServerAsync(broker);
        var rpc = await broker.ConnectAsync();
        var client = rpc.CreateClient<IBrokenReplies>();

        var items = new List<int>();
        async Task<string> ReadAsync()
        {
            using (RpcCallOptions.WithTimeout(CallTimeout))
            {
                await foreach (var item in client.StreamAsync(mode)) items.Add(item);
            }

            return "ended";
        }

        var failure = await FailsWithinAsync(ReadAsync(), $"the stream answered '{mode}'");
        Assert.True(failure is RpcRemoteException or RpcSerializationException, failure.ToString());
        AssertSays(failure, broker, why);
        // The items before the broken message still reached the reader.
        Assert.Equal(mode == "stream-reply-bad-utf8" ? [] : new List<int> { 0, 1 }, items);
        Assert.Equal(0, rpc.PendingCallCount);
    }

    private static async Task<Exception> FailsWithinAsync<T>(Task<T> call, string what)
    {
        var finished = await Task.WhenAny(call, Task.Delay(AtOnce));
        Assert.True(finished == call, $"{what}: the caller's task was still pending {AtOnce.TotalSeconds} s later (its timeout is {CallTimeout.TotalSeconds} s)");
        return await Assert.ThrowsAnyAsync<Exception>(() => call);
    }

    private static void AssertSays(Exception failure, TestBroker broker, string why)
    {
        var rpc = Assert.IsAssignableFrom<RpcException>(failure);
        Assert.Equal("BrokenReplies", rpc.Service);
        Assert.Contains("BrokenReplies.", failure.Message);
        Assert.Contains(broker.QueueName("broken-replies"), failure.Message);
        Assert.Contains(why, failure.Message);
    }

    /// <summary>Answers each request as its <c>mode</c> argument says.</summary>
    private static Task<HostileServer> StartBrokenServerAsync(TestBroker broker) =>
        HostileServer.StartAsync(broker, broker.QueueName("broken-replies"), async (server, request) =>
        {
            var replyTo = request.Properties.ReplyTo!;
            var id = request.Properties.CorrelationId;
            var mode = System.Text.Json.JsonDocument.Parse(request.Body).RootElement.GetString();
            var error = new Dictionary<string, object?> { ["rpc-status"] = "error" };
            switch (mode)
            {
                case "error-bad-utf8":
                case "stream-reply-bad-utf8":
                    await server.SendAsync(replyTo, id, BadUtf8Error, error);
                    break;
                case "fault-throws":
                    await server.SendAsync(replyTo, id, ThrowingFault, error);
                    break;
                case "result-not-json":
                    await server.SendAsync(replyTo, id, "\"cut short"u8.ToArray());
                    break;
                case "stream-marker-bad-utf8":
                    await server.SendAsync(replyTo, id, "[0,1]"u8.ToArray(), Stream("items", 0));
                    await server.SendAsync(replyTo, id, BadUtf8Error, new Dictionary<string, object?>(Stream("error", 2)) { ["rpc-status"] = "error" });
                    break;
                case "stream-marker-fault-throws":
                    await server.SendAsync(replyTo, id, "[0,1]"u8.ToArray(), Stream("items", 0));
                    await server.SendAsync(replyTo, id, ThrowingFault, new Dictionary<string, object?>(Stream("error", 2)) { ["rpc-status"] = "error" });
                    break;
                case "stream-items-not-int":
                    await server.SendAsync(replyTo, id, "[0,1,\"two\"]"u8.ToArray(), Stream("items", 0));
                    break;
            }
        });

    private static Dictionary<string, object?> Stream(string kind, long sequence) => new() { ["rpc-stream"] = kind, ["rpc-stream-seq"] = sequence };

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
