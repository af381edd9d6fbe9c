using System;
using System.Collections.Generic;

namespace RpcGen.Wire;

/// <summary>
/// The names and values of a streamed result (docs/wire-format.md, "Streaming results"): the request asks for a
/// window, the server answers with several messages to the caller's <c>reply_to</c> (items, then one end or error
/// marker), and the caller grants more credit on the control path as it consumes.
/// </summary>
internal static class StreamContract
{
    /// <summary>
    /// Request header: how many items the caller lets the server send before it hears of more credit (an integer).
    /// A server uses its own <see cref="RpcClientOptions.StreamWindow"/> when a request to a streaming method has none.
    /// </summary>
    public const string WindowHeader = "rpc-stream-window";

    /// <summary>The largest window <see cref="RpcClientOptions.StreamWindow"/> accepts, so the largest an RpcGen caller asks for.</summary>
    public const int MaxWindow = 65_536;

    /// <summary>Header of every message of a stream: <see cref="Items"/>, <see cref="End"/> or <see cref="Error"/>.</summary>
    public const string KindHeader = "rpc-stream";

    /// <summary>
    /// Header of every message of a stream, a 64-bit integer: on items, the sequence number of the first item in the
    /// body (the stream's first item is 0); on an end or error marker, the number of items sent before it.
    /// </summary>
    public const string SequenceHeader = "rpc-stream-seq";

    /// <summary>A message carrying one or more items: the body is a JSON array of them, in order.</summary>
    public const string Items = "items";

    /// <summary>The stream ended normally after <see cref="SequenceHeader"/> items; the body is empty.</summary>
    public const string End = "end";

    /// <summary>The stream failed after <see cref="SequenceHeader"/> items; header <c>rpc-status: error</c> and an error body follow the rules of error replies.</summary>
    public const string Error = "error";

    /// <summary>
    /// The <c>type</c> of a control message granting credit to the stream with its <c>correlation_id</c>; header
    /// <see cref="CreditHeader"/>. Resent unchanged as a keep-alive while the caller waits, so a server can tell a
    /// slow caller from one that is gone.
    /// </summary>
    public const string CreditMessageType = "credit";

    /// <summary>
    /// Control-message header, a 64-bit integer: the server may send the items whose sequence number is below it.
    /// Absolute rather than "N more", so a lost, repeated or reordered grant does no harm.
    /// </summary>
    public const string CreditHeader = "rpc-stream-credit";

    /// <summary>
    /// Error type of a stream the server stopped because its caller granted no credit (nor resent its last grant) for
    /// <see cref="RpcClientOptions.StreamIdleTimeout"/>: the caller is taken to be gone.
    /// </summary>
    public const string AbandonedErrorType = RpcErrorTypes.StreamAbandoned;

    /// <summary>What a stream message says about itself; null when the message is not part of a stream (a plain reply).</summary>
    public static (string Kind, long Sequence)? Read(IDictionary<string, object?>? headers)
    {
        if (headers is null || !headers.TryGetValue(KindHeader, out var kind)) return null;
        var text = kind switch
        {
            // Lenient: a kind that is not UTF-8 reads as an unknown kind, which fails its stream with a clear error.
            byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        };
        if (text is null) return null;
        long sequence = headers.TryGetValue(SequenceHeader, out var value) ? ReadInteger(value) ?? -1 : -1;
        return (text, sequence);
    }

    /// <summary>An integer header as sent by RpcGen (long) or by a plain client (int, or a smaller integer type).</summary>
    public static long? ReadInteger(object? value) => value switch
    {
        long l => l,
        int i => i,
        short s => s,
        byte b => b,
        sbyte sb => sb,
        uint u => u,
        ushort us => us,
        _ => null,
    };

    public static long? ReadInteger(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? ReadInteger(value) : null;
}
