namespace RpcGen.Diagnostics;

/// <summary>
/// The names RpcGen's traces, metrics and logs appear under, for OpenTelemetry and logging filters:
/// <c>.AddSource(RpcDiagnostics.ActivitySourceName)</c>, <c>.AddMeter(RpcDiagnostics.MeterName)</c>.
/// Everything is described in docs/observability.md.
/// </summary>
public static class RpcDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of client and server spans: <c>RpcGen</c>.</summary>
    public const string ActivitySourceName = "RpcGen";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of call metrics: <c>RpcGen</c>.</summary>
    public const string MeterName = "RpcGen";

    /// <summary>Histogram of client call durations in seconds, from the call until its reply, failure or timeout.</summary>
    public const string ClientCallDuration = "rpc.client.call.duration";

    /// <summary>Histogram of server call durations in seconds, from delivery until the request is acked.</summary>
    public const string ServerCallDuration = "rpc.server.call.duration";

    /// <summary>Up-down counter of client calls waiting for their reply.</summary>
    public const string ClientActiveCalls = "rpcgen.client.active_calls";

    /// <summary>Up-down counter of requests a server is handling.</summary>
    public const string ServerActiveCalls = "rpcgen.server.active_calls";

    /// <summary>Counter of client calls that ended in an exception, tagged with <c>error.type</c>.</summary>
    public const string ClientErrors = "rpcgen.client.errors";

    /// <summary>Counter of requests a server answered with an error reply, tagged with <c>error.type</c>.</summary>
    public const string ServerErrors = "rpcgen.server.errors";

    /// <summary>Counter of one-way requests and events put back in their queue for another try after their handler threw.</summary>
    public const string Retried = "rpcgen.server.retried";

    /// <summary>Counter of one-way requests and events moved to <c>{queue}.dead-letter</c>, tagged with <c>error.type</c>.</summary>
    public const string DeadLettered = "rpcgen.server.dead_lettered";

    /// <summary>Counter of batch deliveries (several calls in one message) a server answered, tagged with the queue.</summary>
    public const string ServerBatches = "rpcgen.server.batches";

    /// <summary>Counter of deliveries a server acked or gave back to its queue, tagged with the queue.</summary>
    public const string ServerSettlements = "rpcgen.server.settlements";

    /// <summary>
    /// Counter of ack, nack and reject frames a server wrote, tagged with the queue: fewer than
    /// <see cref="ServerSettlements"/> when acks of requests that finished together are coalesced.
    /// </summary>
    public const string ServerSettlementFrames = "rpcgen.server.settlement_frames";

    /// <summary>
    /// Counter of calls their caller cancelled on a server, tagged with the queue: running handlers whose token the
    /// cancel fired, and queued requests refused unrun.
    /// </summary>
    public const string ServerCallerCancels = "rpcgen.server.caller_cancels";

    /// <summary>Counter of events published and confirmed by the broker.</summary>
    public const string EventsPublished = "rpcgen.events.published";

    /// <summary>Counter of events the broker returned because no queue was bound for them.</summary>
    public const string EventsUnroutable = "rpcgen.events.unroutable";

    /// <summary>Counter of events a subscriber's handler completed.</summary>
    public const string EventsHandled = "rpcgen.events.handled";

    /// <summary>Counter of event handler runs that threw (each try of a retried event counts), tagged with <c>error.type</c>.</summary>
    public const string EventsFailed = "rpcgen.events.failed";

    /// <summary>Counter of events moved to their subscription's dead-letter queue, tagged with <c>error.type</c>.</summary>
    public const string EventsDeadLettered = "rpcgen.events.dead_lettered";

    /// <summary>Counter of batch messages (two or more calls each, <c>RpcClientOptions.BatchCalls</c>) a client sent, tagged with the queue.</summary>
    public const string ClientBatches = "rpcgen.client.batches";

    /// <summary>Counter of calls a client sent inside batch messages, tagged with the queue.</summary>
    public const string ClientBatchedCalls = "rpcgen.client.batched_calls";

    /// <summary>Counter of passive declares a client sent to ask whether anyone consumes a queue (fail fast), tagged with the queue.</summary>
    public const string ClientServerChecks = "rpcgen.client.server_checks";

    /// <summary>Counter of cancels a client published (and the broker confirmed) for calls it gave up on.</summary>
    public const string ClientCancels = "rpcgen.client.cancels";

    /// <summary>
    /// Counter of cancels and stream credit grants a client gave up: no server declared the control exchange, no confirm
    /// within 5 s, or dropped from a full queue; tagged <c>rpcgen.control.kind</c> = <c>cancel</c> or <c>credit</c>.
    /// </summary>
    public const string ClientControlLost = "rpcgen.client.control_lost";

    /// <summary>Counter of channels opened again: rebuilt after the broker closed them, or reopened at next use; tagged <c>rpcgen.channel</c> with its purpose.</summary>
    public const string ChannelRebuilds = "rpcgen.channel.rebuilds";

    /// <summary>Logger category of connection events (connected, reconnecting, recovered).</summary>
    public const string ConnectionLogCategory = "RpcGen.Connection";

    /// <summary>Logger category of client events (call failed).</summary>
    public const string ClientLogCategory = "RpcGen.Client";

    /// <summary>Logger category of server events (handler failed, poison message rejected, started, stopped).</summary>
    public const string ServerLogCategory = "RpcGen.Server";
}
