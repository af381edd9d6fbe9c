using System;
using System.Collections.Generic;

namespace RpcGen;

/// <summary>
/// How a server runs one service or subscription. <see cref="RpcConnectionOptions.Server"/> holds a connection's
/// defaults (configuration section <c>RpcGen:Server</c>); each server starts from a copy of them, which
/// <c>ServeAsync(..., configure)</c>, <c>AddRpcServer(configure)</c> or the section <c>RpcGen:Servers:{ServiceName}</c>
/// may change for that service alone. Checked when the server starts.
/// </summary>
public sealed class RpcServerOptions
{
    internal RpcServerOptions()
    {
    }

    /// <summary>
    /// How many requests one server takes from its queue before acknowledging any (AMQP prefetch), which is also
    /// how many it runs at once. Several servers on one queue share the work in proportion. At least 1; an ordered
    /// service runs one at a time whatever it says. Defaults to 64 (why: docs/performance.md).
    /// </summary>
    public ushort Prefetch { get; set; } = 64;

    /// <summary>How long disposing a server waits for calls in flight to finish. Defaults to 30 seconds.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times a one-way request or an event whose handler throws is tried again before it is dead-lettered to
    /// <c>{queue}.dead-letter</c> (with the error in its headers). Each retry goes back to the queue with an
    /// <c>rpc-retries</c> header counting them, so the limit holds across server restarts and on classic queues,
    /// which do not count redeliveries. Zero dead-letters at the first failure. Defaults to 3.
    /// </summary>
    public int RetryLimit { get; set; } = 3;

    /// <summary>
    /// How long a server waits before it puts a failed one-way request or event back in its queue for the first retry;
    /// each further retry waits twice as long as the one before, up to <see cref="MaxRetryBackoff"/>. The server holds
    /// the failed delivery meanwhile: it takes one of the <see cref="Prefetch"/> slots for the wait. Zero retries at
    /// once. Defaults to 1 second (1 s, 2 s, 4 s for the default three retries).
    /// </summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before one retry (<see cref="RetryBackoff"/> doubles up to it). Defaults to 30 seconds.</summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest request body a server accepts, checked before anything is deserialised. Larger requests get an
    /// <c>rpc:too-large</c> error reply. Defaults to 4 MiB.
    /// </summary>
    public int MaxRequestBodySize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// When <see langword="true"/>, error replies carry the exception's full text (stack trace and inner exceptions) in
    /// a <c>detail</c> field. Off by default so server internals stay on the server.
    /// </summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>
    /// How far the server's clock may run ahead of a caller's before a request that arrives after its caller's
    /// deadline is refused unrun (<c>rpc:deadline-exceeded</c>). Requests within the tolerance run; a caller that has
    /// given up then drops the reply. Defaults to 1 second; set it to zero when clients and servers share a clock.
    /// </summary>
    public TimeSpan ClockSkewTolerance { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Run around every request the server handles, first outermost (<see cref="IRpcServerInterceptor"/>).</summary>
    public IList<IRpcServerInterceptor> Interceptors { get; private set; } = new List<IRpcServerInterceptor>();

    /// <summary>
    /// Reply queues a server answers besides direct reply-to (<c>amq.rabbitmq.reply-to…</c>) and server-named queues
    /// (<c>amq.gen-…</c>): a request whose <c>reply_to</c> starts with none of these prefixes is not run, acked and
    /// logged (warning 3042 <c>ReplyQueueRefused</c>). A server publishes replies with its own broker rights through the
    /// default exchange, which reaches every queue of the vhost, so without this check any caller could make it write
    /// into any queue (another service's work queue, for one). Add the prefix of the named reply queues your plain AMQP
    /// callers use, e.g. <c>billing.replies.</c>. Empty by default.
    /// </summary>
    public IList<string> AllowedReplyQueuePrefixes { get; set; } = new List<string>();

    /// <summary>
    /// The most items a server streams ahead of its caller's consumption, whatever window (<c>rpc-stream-window</c>) or
    /// credit the caller sends: a caller cannot make a server flood its reply queue. A caller whose
    /// <see cref="RpcClientOptions.StreamWindow"/> is larger is simply sent less ahead. At least 1. Defaults to 4,096.
    /// </summary>
    public int MaxStreamWindow { get; set; } = 4096;

    /// <summary>
    /// How many items of a streamed result a server may put into one message, when they are ready together (the
    /// enumeration produces them without waiting). 1 sends one message per item. Defaults to 64.
    /// </summary>
    public int StreamBatchSize { get; set; } = 64;

    /// <summary>
    /// How long a server waiting for its caller's credit on a stream waits without hearing a grant before it stops the
    /// enumeration (the caller is gone). Set it alike to the callers' <see cref="RpcClientOptions.StreamIdleTimeout"/>.
    /// Defaults to 30 seconds.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a server acks requests that finish close together with one multiple ack (the default). False acks each
    /// request on its own, right after its reply; the benchmark sets it to compare the two.
    /// </summary>
    internal bool CoalesceAcks { get; set; } = true;

    /// <summary>A copy for one server, which it may change without touching the connection's defaults.</summary>
    internal RpcServerOptions Clone()
    {
        var copy = (RpcServerOptions)MemberwiseClone();
        copy.Interceptors = new List<IRpcServerInterceptor>(Interceptors);
        copy.AllowedReplyQueuePrefixes = AllowedReplyQueuePrefixes is null ? null! : new List<string>(AllowedReplyQueuePrefixes);
        return copy;
    }
}
