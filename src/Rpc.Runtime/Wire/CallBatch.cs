using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace RpcGen.Wire;

/// <summary>
/// The batch form of the wire contract (docs/wire-format.md, "Batched calls"): several requests to one queue in one
/// message, and several replies to one caller in one message. Only RpcGen clients with
/// <see cref="RpcClientOptions.BatchCalls"/> send batches, and only RpcGen servers answer them in this form, so a plain
/// client never needs to write one; a plain server never receives one unless a client is configured to batch.
/// </summary>
/// <remarks>
/// A batch is marked by its content type alone, so it carries no header table. Its body is a version byte, then the
/// items back to back. Request item: correlation id (u8 length + bytes), method name (u8 length + UTF-8 bytes, may be
/// empty), deadline (i64 Unix ms, 0: none), JSON body (i32 length + bytes). Reply item: correlation id, status (u8:
/// 0 success, 1 error), JSON body. Integers are big-endian, as in AMQP.
/// </remarks>
internal static class CallBatch
{
    /// <summary>The content type of a batch of requests and of a batch of replies.</summary>
    public const string ContentType = "application/vnd.rpcgen.batch";

    /// <summary>The <c>type</c> of a request batch: a server that predates batches answers <c>rpc:unknown-method</c> instead of guessing.</summary>
    public const string MessageType = "rpc-batch";

    public const byte Version = 1;

    /// <summary>Most items a server reads from one batch; a larger one is refused as malformed.</summary>
    public const int MaxItems = 1024;

    private const byte Success = 0, Error = 1;

    /// <summary>
    /// Where request batches for <paramref name="queue"/> are published: a queue of their own, consumed only by servers
    /// that read batches, so a plain server of the service queue never receives one (docs/wire-format.md, "Batched calls").
    /// </summary>
    public static string QueueFor(string queue) => "rpc-batch." + queue;

    /// <summary>
    /// How long the batch queue outlives its last reader (<c>x-expires</c>, ms). A reader that stops deletes it once it
    /// is empty; one that crashed leaves it, with the batches it holds, for the next reader or this long.
    /// </summary>
    public const int QueueExpiresMs = 10 * 60 * 1000;

    /// <summary>
    /// The least prefetch of a server that reads batches: as many calls as a batch carries by default
    /// (<see cref="RpcClientOptions.MaxBatchSize"/>, 32), so a batch does not wait for its own calls' slots. A server
    /// with a smaller prefetch asks for few calls at once and gets lone calls only, spread over its peers.
    /// </summary>
    public const int MinReaderPrefetch = 32;

    public static bool IsBatch(string? contentType) => contentType is not null && contentType.Equals(ContentType, StringComparison.Ordinal);

    public static void BeginBatch(PooledBufferWriter writer)
    {
        writer.GetSpan(1)[0] = Version;
        writer.Advance(1);
    }

    public static void WriteRequest(PooledBufferWriter writer, string correlationId, string? method, long deadline, ReadOnlySpan<byte> body)
    {
        WriteShortString(writer, correlationId);
        WriteShortString(writer, method ?? string.Empty);
        var span = writer.GetSpan(12);
        BinaryPrimitives.WriteInt64BigEndian(span, deadline);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(8), body.Length);
        writer.Advance(12);
        body.CopyTo(writer.GetSpan(body.Length));
        writer.Advance(body.Length);
    }

    public static void WriteReply(PooledBufferWriter writer, string? correlationId, bool isError, ReadOnlySpan<byte> body)
    {
        WriteShortString(writer, correlationId ?? string.Empty);
        var span = writer.GetSpan(5);
        span[0] = isError ? Error : Success;
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(1), body.Length);
        writer.Advance(5);
        body.CopyTo(writer.GetSpan(body.Length));
        writer.Advance(body.Length);
    }

    /// <summary>The bytes a request item takes besides its body, for keeping a batch under the message size.</summary>
    public static int RequestOverhead(string correlationId, string? method) =>
        2 + Encoding.UTF8.GetByteCount(correlationId) + Encoding.UTF8.GetByteCount(method ?? string.Empty) + 12;

    /// <summary>The bytes a reply item takes besides its body, for keeping a message of replies under the broker's limit.</summary>
    public static int ReplyOverhead(string? correlationId) => 1 + Encoding.UTF8.GetByteCount(correlationId ?? string.Empty) + 5;

    /// <summary>One request read from a batch; <see cref="Body"/> is a slice of the delivery's body.</summary>
    public readonly record struct Request(string CorrelationId, string? Method, long Deadline, ReadOnlyMemory<byte> Body);

    /// <summary>Reads every request of a batch, or says why it cannot be read (then none is run).</summary>
    public static bool TryReadRequests(ReadOnlyMemory<byte> body, List<Request> requests, out string error)
    {
        var span = body.Span;
        if (span.Length < 1 || span[0] != Version)
        {
            error = span.Length < 1 ? "the batch is empty" : $"the batch has version {span[0]}; this server reads version {Version}";
            return false;
        }

        int at = 1;
        while (at < span.Length)
        {
            if (requests.Count == MaxItems)
            {
                error = $"the batch holds more than {MaxItems} requests";
                return false;
            }

            if (!TryReadShortString(span, ref at, out var correlationId) || correlationId.Length == 0
                || !TryReadShortString(span, ref at, out var method) || span.Length - at < 12)
            {
                error = $"request {requests.Count + 1} is cut short or has no correlation id";
                return false;
            }

            long deadline = BinaryPrimitives.ReadInt64BigEndian(span.Slice(at));
            int length = BinaryPrimitives.ReadInt32BigEndian(span.Slice(at + 8));
            at += 12;
            if (length < 0 || length > span.Length - at)
            {
                error = $"request {requests.Count + 1} says its body is {length} bytes; {span.Length - at} are left";
                return false;
            }

            requests.Add(new Request(correlationId, method.Length == 0 ? null : method, deadline, body.Slice(at, length)));
            at += length;
        }

        if (requests.Count == 0)
        {
            error = "the batch holds no request";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>What is done with one reply read from a batch.</summary>
    public delegate void ReplyHandler<TState>(TState state, string correlationId, bool isError, ReadOnlySpan<byte> body);

    /// <summary>Hands each reply of a batch to <paramref name="onReply"/>; false when the batch is malformed (the replies before that were handed on).</summary>
    public static bool ReadReplies<TState>(ReadOnlySpan<byte> body, TState state, ReplyHandler<TState> onReply)
    {
        if (body.Length < 1 || body[0] != Version) return false;
        int at = 1;
        while (at < body.Length)
        {
            if (!TryReadShortString(body, ref at, out var correlationId) || body.Length - at < 5) return false;
            bool isError = body[at] == Error;
            int length = BinaryPrimitives.ReadInt32BigEndian(body.Slice(at + 1));
            at += 5;
            if (length < 0 || length > body.Length - at) return false;
            onReply(state, correlationId, isError, body.Slice(at, length));
            at += length;
        }

        return true;
    }

    /// <summary>The correlation ids of a request batch, e.g. of one the broker returned as unroutable.</summary>
    public static List<string> ReadCorrelationIds(ReadOnlyMemory<byte> body)
    {
        var requests = new List<Request>();
        TryReadRequests(body, requests, out _);
        var ids = new List<string>(requests.Count);
        foreach (var request in requests) ids.Add(request.CorrelationId);
        return ids;
    }

    private static void WriteShortString(PooledBufferWriter writer, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        if (length > byte.MaxValue) throw new ArgumentException($"'{text}' is longer than 255 bytes.", nameof(text));
        var span = writer.GetSpan(1 + length);
        span[0] = (byte)length;
        Encoding.UTF8.GetBytes(text, span.Slice(1));
        writer.Advance(1 + length);
    }

    private static bool TryReadShortString(ReadOnlySpan<byte> span, ref int at, out string text)
    {
        text = string.Empty;
        if (at >= span.Length) return false;
        int length = span[at];
        if (length > span.Length - at - 1) return false;
        try
        {
            text = WireContract.Utf8.GetString(span.Slice(at + 1, length));
        }
        catch (ArgumentException)
        {
            return false;
        }

        at += 1 + length;
        return true;
    }
}
