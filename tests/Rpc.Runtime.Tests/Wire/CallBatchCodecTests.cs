using System.Text;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.Runtime.Tests.Wire;

/// <summary>The batch form of the wire contract on its own (Wire/CallBatch.cs): what one end writes, the other reads; what is malformed is refused with a reason.</summary>
public sealed class CallBatchCodecTests
{
    [Fact]
    public void Requests_written_into_a_batch_are_read_back_in_order_with_their_ids_methods_deadlines_and_bodies()
    {
        using var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        CallBatch.WriteRequest(writer, "abc-1", "Add", 1_767_000_000_123, "{\"a\":1}"u8);
        CallBatch.WriteRequest(writer, "abc-2", null, 0, ReadOnlySpan<byte>.Empty);
        CallBatch.WriteRequest(writer, "abc-3", "Größe", -1, new byte[70_000]);
        Assert.Equal(writer.WrittenCount, 1 + CallBatch.RequestOverhead("abc-1", "Add") + 7 + CallBatch.RequestOverhead("abc-2", null)
            + CallBatch.RequestOverhead("abc-3", "Größe") + 70_000);

        var requests = new List<CallBatch.Request>();
        Assert.True(CallBatch.TryReadRequests(writer.WrittenMemory.ToArray(), requests, out var error), error);
        Assert.Equal(new[] { "abc-1", "abc-2", "abc-3" }, requests.Select(r => r.CorrelationId));
        Assert.Equal(new[] { "Add", null, "Größe" }, requests.Select(r => r.Method));
        Assert.Equal(new[] { 1_767_000_000_123, 0, -1 }, requests.Select(r => r.Deadline));
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(requests[0].Body.Span));
        Assert.Equal(0, requests[1].Body.Length);
        Assert.Equal(70_000, requests[2].Body.Length);
        Assert.Equal(new[] { "abc-1", "abc-2", "abc-3" }, CallBatch.ReadCorrelationIds(writer.WrittenMemory.ToArray()));
    }

    [Fact]
    public void Replies_written_into_a_batch_are_read_back_with_their_status()
    {
        using var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        CallBatch.WriteReply(writer, "abc-1", isError: false, "42"u8);
        CallBatch.WriteReply(writer, "abc-2", isError: true, "{\"type\":\"rpc:bad-request\"}"u8);

        var read = new List<(string Id, bool IsError, string Body)>();
        Assert.True(CallBatch.ReadReplies(writer.WrittenSpan, read, static (list, id, isError, body) => list.Add((id, isError, Encoding.UTF8.GetString(body)))));
        Assert.Equal(new[] { ("abc-1", false, "42"), ("abc-2", true, "{\"type\":\"rpc:bad-request\"}") }, read);
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty", Array.Empty<byte>(), "the batch is empty" },
        { "unknown version", new byte[] { 2, 1, (byte)'x' }, "version 2" },
        { "no request", new byte[] { 1 }, "holds no request" },
        { "no correlation id", new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "no correlation id" },
        { "id longer than the body", new byte[] { 1, 200, (byte)'x' }, "cut short" },
        { "no deadline", new byte[] { 1, 1, (byte)'x', 0, 0, 0 }, "cut short" },
        { "body longer than left", new byte[] { 1, 1, (byte)'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2 }, "says its body is 9 bytes; 2 are left" },
        { "negative body length", new byte[] { 1, 1, (byte)'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF }, "says its body is -1 bytes" },
        { "id not UTF-8", new byte[] { 1, 1, 0xC3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "cut short" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_request_batch_is_refused_with_a_reason(string what, byte[] body, string reason)
    {
        var requests = new List<CallBatch.Request>();
        Assert.False(CallBatch.TryReadRequests(body, requests, out var error), what);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_batch_of_more_requests_than_a_server_reads_is_refused()
    {
        using var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        for (int i = 0; i <= CallBatch.MaxItems; i++) CallBatch.WriteRequest(writer, "id-" + i, "Add", 0, "1"u8);
        Assert.False(CallBatch.TryReadRequests(writer.WrittenMemory.ToArray(), new List<CallBatch.Request>(), out var error));
        Assert.Contains($"more than {CallBatch.MaxItems} requests", error);
    }

    [Fact]
    public void A_malformed_reply_batch_hands_on_the_replies_before_the_fault_and_says_so()
    {
        using var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        CallBatch.WriteReply(writer, "abc-1", isError: false, "1"u8);
        var cut = writer.WrittenSpan.ToArray().Concat(new byte[] { 5, (byte)'a' }).ToArray();
        var read = new List<string>();
        Assert.False(CallBatch.ReadReplies(cut, read, static (list, id, _, _) => list.Add(id)));
        Assert.Equal(new[] { "abc-1" }, read);
    }
}
