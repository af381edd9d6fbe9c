using System;
using System.Collections.Generic;
using System.Text;

namespace RpcGen.Wire;

/// <summary>
/// Every name and value of the public wire contract (docs/wire-format.md) in one place. No other file spells them.
/// </summary>
internal static class WireContract
{
    /// <summary>Where the client asks for replies: RabbitMQ's direct reply-to pseudo-queue.</summary>
    public const string DirectReplyTo = "amq.rabbitmq.reply-to";

    /// <summary>Requests are published to the default exchange, routed by queue name.</summary>
    public const string DefaultExchange = "";

    public const string JsonContentType = "application/json";

    /// <summary>
    /// Reply header marking an error reply (value <see cref="StatusError"/>). RpcGen servers send it on error replies
    /// only; a reply without it, or with any other value (older servers sent <c>ok</c>), is a success.
    /// </summary>
    public const string StatusHeader = "rpc-status";
    public const string StatusError = "error";

    /// <summary>
    /// W3C Trace Context of the caller's span, in the request headers: a server's span continues the caller's trace.
    /// Optional; a request without it starts a new trace.
    /// </summary>
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    /// <summary>
    /// Request header: when the caller stops waiting, in Unix milliseconds. The broker's expiration covers the time a
    /// request waits in the queue; this covers the time before it got there (a publish held up on a busy channel).
    /// </summary>
    public const string DeadlineHeader = "rpc-deadline";

    /// <summary>
    /// Where a service's control messages go: a fanout exchange <c>rpc-control.{queue}</c> that every server of the
    /// service binds with an exclusive, auto-delete queue of its own. A cancel is one message to it.
    /// </summary>
    public const string ControlExchangePrefix = "rpc-control.";

    /// <summary>The <c>type</c> of a control message that cancels the call with its <c>correlation_id</c>.</summary>
    public const string CancelMessageType = "cancel";

    public static string ControlExchangeFor(string queue) => ControlExchangePrefix + queue;

    /// <summary>Header names the runtime owns: a caller's own headers (RpcCallOptions.Headers) may not use them.</summary>
    public static bool IsReservedHeader(string name) =>
        name.StartsWith("rpc-", StringComparison.Ordinal) || name == TraceParentHeader || name == TraceStateHeader;

    /// <summary>
    /// Header on a one-way request or event that RpcGen put back in its queue after a handler failed: how many times
    /// it has been retried so far. Absent means a first delivery. Counted by RpcGen rather than the broker because
    /// classic queues do not count redeliveries.
    /// </summary>
    public const string RetriesHeader = "rpc-retries";

    /// <summary>
    /// Header on a one-way request or event that was moved back from its dead-letter queue (it arrived carrying
    /// <see cref="ErrorTypeHeader"/>): how many times it was replayed. A replay starts its retries again at 0.
    /// </summary>
    public const string ReplaysHeader = "rpc-replays";

    /// <summary>
    /// Header the server sets on its retry and dead-letter copies: the <c>user_id</c> of the original request (empty
    /// when it had none). The copies are published as the server's broker user, since RabbitMQ refuses a foreign
    /// <c>user_id</c>; the header is believed only on a message whose <c>user_id</c> is the server's user.
    /// </summary>
    public const string OriginalUserHeader = "rpc-original-user";

    /// <summary>Headers of a dead-lettered message: why it was given up, and where it came from.</summary>
    public const string ErrorTypeHeader = "rpc-error-type";
    public const string ErrorMessageHeader = "rpc-error-message";
    public const string SourceQueueHeader = "rpc-queue";

    /// <summary>
    /// Header on a retried or dead-lettered event: the exchange and routing key it was first published with (a retry
    /// travels through the default exchange, which replaces both).
    /// </summary>
    public const string ExchangeHeader = "rpc-exchange";
    public const string RoutingKeyHeader = "rpc-routing-key";

    /// <summary>
    /// The headers a server writes on its own retry and dead-letter copies, believed only on a message its own broker
    /// user published (<see cref="Server.WorkHistory"/>), and replaced on every copy it makes.
    /// </summary>
    public static bool IsServerSetHeader(string name) => name is RetriesHeader or ReplaysHeader or OriginalUserHeader or ErrorTypeHeader
        or ErrorMessageHeader or SourceQueueHeader or ExchangeHeader or RoutingKeyHeader;

    /// <summary>Error body fields.</summary>
    public const string ErrorTypeField = "type";
    public const string ErrorMessageField = "message";
    public const string ErrorDetailField = "detail";

    /// <summary>Error body field of a declared fault (<see cref="RpcFaultAttribute"/>): an object of the exception's public properties.</summary>
    public const string ErrorDataField = "data";

    /// <summary>Error types the runtime itself produces (public as <see cref="RpcErrorTypes"/>); handler exceptions use the exception's type name instead.</summary>
    public static class ErrorTypes
    {
        public const string BadRequest = RpcErrorTypes.BadRequest;
        public const string UnknownMethod = RpcErrorTypes.UnknownMethod;
        public const string TooLarge = RpcErrorTypes.TooLarge;
        public const string UnsupportedContentType = RpcErrorTypes.UnsupportedContentType;
        public const string DeadlineExceeded = RpcErrorTypes.DeadlineExceeded;
        public const string Cancelled = RpcErrorTypes.Cancelled;
        public const string ServerError = RpcErrorTypes.ServerError;
    }

    /// <summary>A reply is an error only when it says so; plain servers that set no header answer with success.</summary>
    public static bool IsErrorReply(IDictionary<string, object?>? headers)
    {
        if (headers is null || !headers.TryGetValue(StatusHeader, out var value)) return false;
        return value switch
        {
            byte[] bytes => bytes.AsSpan().SequenceEqual("error"u8),
            string text => text == StatusError,
            _ => false,
        };
    }

    /// <summary>Accepts a missing content type (plain tutorial clients send none) and JSON with optional parameters.</summary>
    public static bool IsAcceptedContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return true;
        var semicolon = contentType.IndexOf(';');
        var mediaType = (semicolon < 0 ? contentType : contentType.Substring(0, semicolon)).Trim();
        return mediaType.Equals(JsonContentType, StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The <c>expiration</c> of a one-way request to <paramref name="method"/>: its time-to-live
    /// (<see cref="RpcMethodDescriptor.TimeToLiveMilliseconds"/>), or null for work that waits in the queue until taken.
    /// </summary>
    public static string? WorkExpirationFor(RpcMethodDescriptor method) =>
        method.TimeToLiveMilliseconds > 0 ? ExpirationFor(TimeSpan.FromMilliseconds(method.TimeToLiveMilliseconds)) : null;

    /// <summary>The expiration property: the call timeout in whole milliseconds, at least 1.</summary>
    public static string ExpirationFor(TimeSpan timeout) =>
        Math.Max(1L, (long)Math.Ceiling(Math.Min(timeout.TotalMilliseconds, int.MaxValue))).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The <c>message_id</c> of a one-way request or event: 122 random bits, as 32 hex digits.</summary>
    public static string NewMessageId() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// Reads the deadline header; absent or unreadable means no deadline (plain clients send none). So does a value
    /// that is no date at all (outside what <see cref="DateTimeOffset"/> holds): read as a date, it would throw.
    /// </summary>
    public static long? ReadDeadline(IDictionary<string, object?>? headers) =>
        headers is not null && headers.TryGetValue(DeadlineHeader, out var value)
            ? value switch { long l when IsDate(l) => l, int i => i, _ => null }
            : null;

    private static readonly long s_earliest = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long s_latest = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private static bool IsDate(long unixMilliseconds) => unixMilliseconds >= s_earliest && unixMilliseconds <= s_latest;

    /// <summary>Reads the retries header; absent or unreadable means a first delivery.</summary>
    public static int ReadRetries(IDictionary<string, object?>? headers) =>
        headers is not null && headers.TryGetValue(RetriesHeader, out var value)
            ? value switch { int i when i > 0 => i, long l when l > 0 => (int)Math.Min(l, int.MaxValue), _ => 0 }
            : 0;

    /// <summary>Reads a count header; absent, negative or unreadable means 0.</summary>
    public static int ReadCount(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value)
            ? value switch { int i when i > 0 => i, long l when l > 0 => (int)Math.Min(l, int.MaxValue), _ => 0 }
            : 0;

    /// <summary>A header written as a string comes back as UTF-8 bytes; null when absent.</summary>
    public static string? ReadText(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value)
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), string text => text, _ => null }
            : null;

    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
