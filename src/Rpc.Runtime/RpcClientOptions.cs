using System;
using System.Collections.Generic;

namespace RpcGen;

/// <summary>
/// What the clients and publishers of an <see cref="RpcConnection"/> do (<see cref="RpcConnectionOptions.Client"/>;
/// configuration section <c>RpcGen:Client</c>). Checked when the connection opens.
/// </summary>
public sealed class RpcClientOptions
{
    internal RpcClientOptions()
    {
    }

    /// <summary>
    /// How long a client waits for a reply before throwing <see cref="RpcTimeoutException"/>. It is also sent as the
    /// request's <c>expiration</c>, so a request nobody waits for any more dies in the queue, and bounds how long a
    /// one-way send or an event publish waits for the broker's confirm (as it bounds, on this connection's servers, the
    /// wait for the confirm of a large reply or of a retry copy). The timeout fires up to a tenth of it late (at most
    /// 100 ms): one sweep per connection checks the calls' due times. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a call waits without a reply before the client asks the broker whether anyone consumes its queue (a
    /// passive declare, shared by the calls to that queue and cached briefly). A queue with no consumer fails the call
    /// with <see cref="RpcServiceUnavailableException"/> instead of letting it wait for its timeout, once a second check
    /// a second later agrees (so a quorum queue's failover, which shows no consumer for a moment, is not mistaken for a
    /// service nobody runs); the check repeats every such period while the call waits. Calls answered sooner never
    /// cost a check. Defaults to 1 second, so a call nobody serves fails after about 2 s (the sweep runs at most 100 ms late).
    /// </summary>
    public TimeSpan ServerCheckDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When <see langword="true"/>, calls wait for a server up to their timeout when their queue has no consumer
    /// (gRPC's wait-for-ready) instead of failing fast; <see cref="RpcCallOptions.WaitForReady"/> sets it per call.
    /// Defaults to <see langword="false"/>.
    /// </summary>
    public bool WaitForReady { get; set; }

    /// <summary>Run around every call this connection's clients make, first outermost (<see cref="IRpcClientInterceptor"/>).</summary>
    public IList<IRpcClientInterceptor> Interceptors { get; } = new List<IRpcClientInterceptor>();

    /// <summary>
    /// Whether calls to one service that wait to be published together go out as one message, and their replies come
    /// back as one. A call goes out on its own whenever nothing else is waiting, so a lone call is sent exactly as
    /// without batching; batches form only under load, where they save the broker most of its work per call. While at
    /// least two batches' worth of calls (2 × <see cref="MaxBatchSize"/>) wait for replies on the connection, a short
    /// line of calls waits up to 1 ms for the callers those replies set going, so batches stay full.
    /// On by default (off before 1.1): batches go to the service's batch queue (<c>rpc-batch.{queue}</c>), which only
    /// RpcGen servers that read batches consume, and only while it has such a consumer, so a plain AMQP server or an
    /// older RpcGen server on the same queue never receives one and keeps answering lone calls. Only request/reply
    /// calls without per-call headers, trace context or streaming are batched; one-way work, ordered services and
    /// large requests go out on their own.
    /// </summary>
    public bool BatchCalls { get; set; } = true;

    /// <summary>
    /// The most calls one batch carries (with <see cref="BatchCalls"/>), from 2 to 1,024. A server runs a batch's calls
    /// side by side, at most <see cref="RpcServerOptions.Prefetch"/> batch calls at a time across all its batches (plus
    /// up to Prefetch lone requests). Defaults to 32.
    /// </summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// The largest request body that may travel in a batch (with <see cref="BatchCalls"/>); a larger one goes out on
    /// its own, where batching would save little beside the cost of the body itself. Defaults to 16 KiB.
    /// </summary>
    public int MaxBatchedBodySize { get; set; } = 16 * 1024;

    /// <summary>
    /// Where replies come back: a server-named queue of the connection's own when its broker user may declare one,
    /// direct reply-to otherwise (<see cref="RpcReplyQueue.Automatic"/>, the default since 1.1); always direct reply-to;
    /// or always its own queue. On RabbitMQ 3.10 a reply through the connection's own queue took 5 to 10 % less time at
    /// one call in flight (docs/performance.md); direct reply-to needs no permission and no queue on the broker.
    /// Servers answer both (docs/wire-format.md, "reply_to").
    /// </summary>
    public RpcReplyQueue ReplyQueue { get; set; } = RpcReplyQueue.Automatic;

    /// <summary>
    /// How many items of a streamed result a caller lets a server send ahead of what the caller's code has taken (the
    /// flow-control window). The caller grants more as it consumes, in steps of half the window, so a slow caller has
    /// at most this many items buffered between the server, the broker and itself. This connection's servers use it
    /// too, for a request that names none. Defaults to 256 (docs/performance.md, "Streaming results": larger windows
    /// hardly add throughput on one connection). At most 65,536: the window is what a caller agrees to buffer, and a
    /// server told of a larger one would be told to run that far ahead.
    /// </summary>
    public int StreamWindow { get; set; } = 256;

    /// <summary>
    /// How long a caller that has taken every item of a stream it received waits for the next message before it fails
    /// the stream with <see cref="RpcTimeoutException"/> (the server died, or produces no item in time). Callers resend
    /// their last grant every third of it while they live. Set it alike to the servers'
    /// <see cref="RpcServerOptions.StreamIdleTimeout"/>. The call's own timeout bounds the whole stream as well.
    /// Defaults to 30 seconds.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When <see langword="true"/>, publishing an event that no queue is bound for (nobody subscribed) throws
    /// <see cref="RpcUnroutableEventException"/>. By AMQP's rules that is not an error, and by default it is not one
    /// here either: the event is dropped by the broker, logged (event 2003) and counted (<c>rpcgen.events.unroutable</c>).
    /// </summary>
    public bool FailUnroutableEvents { get; set; }
}
