using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text;
using RpcGen.Wire;

namespace RpcGen.Diagnostics;

/// <summary>
/// The process-wide ActivitySource and Meter, the instruments, and the tag names (OpenTelemetry's RPC and messaging
/// conventions). Instruments cost nothing while nobody listens: callers check <see cref="ClientMetricsEnabled"/> and
/// <see cref="ServerMetricsEnabled"/> first.
/// </summary>
internal static class RpcTelemetry
{
    private static readonly string? s_version = typeof(RpcTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static readonly ActivitySource Source = new(RpcDiagnostics.ActivitySourceName, s_version);
    public static readonly Meter Meter = new(RpcDiagnostics.MeterName, s_version);

    public static readonly Histogram<double> ClientDuration = Meter.CreateHistogram<double>(RpcDiagnostics.ClientCallDuration, "s",
        "Duration of RPC calls made by RpcGen clients, until the reply, failure or timeout.");
    public static readonly Histogram<double> ServerDuration = Meter.CreateHistogram<double>(RpcDiagnostics.ServerCallDuration, "s",
        "Duration of requests handled by RpcGen servers, from delivery until ack.");
    public static readonly UpDownCounter<long> ClientActive = Meter.CreateUpDownCounter<long>(RpcDiagnostics.ClientActiveCalls, "{call}",
        "RPC calls waiting for their reply.");
    public static readonly UpDownCounter<long> ServerActive = Meter.CreateUpDownCounter<long>(RpcDiagnostics.ServerActiveCalls, "{call}",
        "Requests being handled by RpcGen servers.");
    public static readonly Counter<long> ClientErrors = Meter.CreateCounter<long>(RpcDiagnostics.ClientErrors, "{call}",
        "RPC calls that ended in an exception.");
    public static readonly Counter<long> ServerErrors = Meter.CreateCounter<long>(RpcDiagnostics.ServerErrors, "{call}",
        "Requests answered with an error reply.");

    public static readonly Counter<long> Retried = Meter.CreateCounter<long>(RpcDiagnostics.Retried, "{message}",
        "One-way requests and events put back in their queue for another try after their handler threw.");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>(RpcDiagnostics.DeadLettered, "{message}",
        "One-way requests and events moved to their dead-letter queue.");

    public static readonly Counter<long> ServerBatches = Meter.CreateCounter<long>(RpcDiagnostics.ServerBatches, "{batch}",
        "Batch deliveries (several calls in one message) answered by RpcGen servers.");
    public static readonly Counter<long> ServerSettlements = Meter.CreateCounter<long>(RpcDiagnostics.ServerSettlements, "{delivery}",
        "Deliveries RpcGen servers acked or gave back to their queue.");
    public static readonly Counter<long> ServerSettlementFrames = Meter.CreateCounter<long>(RpcDiagnostics.ServerSettlementFrames, "{frame}",
        "Ack, nack and reject frames RpcGen servers wrote; a multiple ack counts once.");
    public static readonly Counter<long> ServerCallerCancels = Meter.CreateCounter<long>(RpcDiagnostics.ServerCallerCancels, "{call}",
        "Calls their caller cancelled on an RpcGen server: running handlers stopped, and queued requests refused unrun.");

    public static readonly Counter<long> EventsPublished = Meter.CreateCounter<long>(RpcDiagnostics.EventsPublished, "{event}",
        "Events published and confirmed by the broker.");
    public static readonly Counter<long> EventsUnroutable = Meter.CreateCounter<long>(RpcDiagnostics.EventsUnroutable, "{event}",
        "Events the broker returned because no queue was bound for them.");

    public static readonly Counter<long> EventsHandled = Meter.CreateCounter<long>(RpcDiagnostics.EventsHandled, "{event}",
        "Events a subscriber's handler completed.");
    public static readonly Counter<long> EventsFailed = Meter.CreateCounter<long>(RpcDiagnostics.EventsFailed, "{event}",
        "Event handler runs that threw.");
    public static readonly Counter<long> EventsDeadLettered = Meter.CreateCounter<long>(RpcDiagnostics.EventsDeadLettered, "{event}",
        "Events moved to their subscription's dead-letter queue.");

    public static readonly Counter<long> ClientBatches = Meter.CreateCounter<long>(RpcDiagnostics.ClientBatches, "{message}",
        "Batch messages (two or more calls each) a client sent.");

    public static readonly Counter<long> ClientBatchedCalls = Meter.CreateCounter<long>(RpcDiagnostics.ClientBatchedCalls, "{call}",
        "Calls a client sent inside batch messages.");

    public static readonly Counter<long> ClientServerChecks = Meter.CreateCounter<long>(RpcDiagnostics.ClientServerChecks, "{check}",
        "Passive declares a client sent to ask whether anyone consumes a queue.");

    public static readonly Counter<long> ClientCancels = Meter.CreateCounter<long>(RpcDiagnostics.ClientCancels, "{message}",
        "Cancels a client published for calls it gave up on.");

    public static readonly Counter<long> ClientControlLost = Meter.CreateCounter<long>(RpcDiagnostics.ClientControlLost, "{message}",
        "Cancels and stream credit grants a client gave up.");

    public static readonly Counter<long> ChannelRebuilds = Meter.CreateCounter<long>(RpcDiagnostics.ChannelRebuilds, "{channel}",
        "Channels opened again after the broker closed them, or reopened at next use.");

    /// <summary>The tag of <c>rpcgen.channel.rebuilds</c>: what the channel is for.</summary>
    public const string ChannelTag = "rpcgen.channel";

    /// <summary>The tag of <c>rpcgen.client.control_lost</c>: <c>cancel</c> or <c>credit</c>.</summary>
    public const string ControlKindTag = "rpcgen.control.kind";

    public static void CountBatch(string service, string queue, int calls)
    {
        if (ClientBatches.Enabled) ClientBatches.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, service }, { MessagingDestinationTag, queue } });
        if (ClientBatchedCalls.Enabled)
        {
            ClientBatchedCalls.Add(calls, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, service }, { MessagingDestinationTag, queue } });
        }
    }

    public static void CountServerCheck(string queue)
    {
        if (ClientServerChecks.Enabled) ClientServerChecks.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { MessagingDestinationTag, queue } });
    }

    public static void CountCancel(string queue)
    {
        if (ClientCancels.Enabled) ClientCancels.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { MessagingDestinationTag, queue } });
    }

    public static void CountControlLost(string queue, bool credit)
    {
        if (ClientControlLost.Enabled)
        {
            ClientControlLost.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { MessagingDestinationTag, queue }, { ControlKindTag, credit ? "credit" : "cancel" } });
        }
    }

    public static void CountRebuild(string purpose)
    {
        if (ChannelRebuilds.Enabled) ChannelRebuilds.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { ChannelTag, purpose } });
    }

    public static void CountPublished(string events, string method)
    {
        if (EventsPublished.Enabled) EventsPublished.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, events }, { RpcMethodTag, method } });
    }

    public static void CountUnroutable(string events, string method)
    {
        if (EventsUnroutable.Enabled) EventsUnroutable.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, events }, { RpcMethodTag, method } });
    }

    public static void CountRetried(string service, string method)
    {
        if (Retried.Enabled) Retried.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, service }, { RpcMethodTag, method } });
    }

    /// <param name="service">The service, or for an event the events interface.</param>
    /// <param name="method">The method or event.</param>
    /// <param name="errorType">Why it was given up.</param>
    /// <param name="isEvent">An event rather than one-way work: counted by <c>rpcgen.events.dead_lettered</c> as well.</param>
    public static void CountDeadLettered(string service, string method, string errorType, bool isEvent = false)
    {
        if (DeadLettered.Enabled)
        {
            DeadLettered.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, service }, { RpcMethodTag, method }, { ErrorTypeTag, errorType } });
        }

        if (isEvent && EventsDeadLettered.Enabled)
        {
            EventsDeadLettered.Add(1, new TagList { { RpcSystemTag, RpcSystem }, { RpcServiceTag, service }, { RpcMethodTag, method }, { ErrorTypeTag, errorType } });
        }
    }

    /// <summary>The <c>rpc.system</c> value: RpcGen's own protocol over AMQP.</summary>
    public const string RpcSystem = "rpcgen";

    public const string RpcSystemTag = "rpc.system";
    public const string RpcServiceTag = "rpc.service";
    public const string RpcMethodTag = "rpc.method";
    public const string RpcStatusTag = "rpc.response.status_code";
    public const string ErrorTypeTag = "error.type";
    public const string MessagingSystemTag = "messaging.system";
    public const string MessagingSystem = "rabbitmq";
    public const string MessagingOperationTypeTag = "messaging.operation.type";
    public const string MessagingDestinationTag = "messaging.destination.name";
    public const string RoutingKeyTag = "messaging.rabbitmq.destination.routing_key";
    public const string ConversationIdTag = "messaging.message.conversation_id";
    public const string BodySizeTag = "messaging.message.body.size";
    public const string ServerAddressTag = "server.address";
    public const string ServerPortTag = "server.port";
    public const string RedeliveredTag = "rpcgen.redelivered";

    /// <summary>The method name used for requests whose method is unknown, so a bad caller cannot blow up cardinality.</summary>
    public const string OtherMethod = "_OTHER";

    public const string StatusOk = "ok";

    /// <summary>The <c>error.type</c> of a call its caller cancelled.</summary>
    public const string Cancelled = "cancelled";

    public static bool ClientMetricsEnabled => ClientDuration.Enabled || ClientActive.Enabled || ClientErrors.Enabled;
    public static bool ServerMetricsEnabled => ServerDuration.Enabled || ServerActive.Enabled || ServerErrors.Enabled;

    /// <summary>
    /// What <c>error.type</c> says: the server's error type for an error reply (an exception type name or an
    /// <c>rpc:</c> type), else the exception's type name.
    /// </summary>
    public static string ErrorType(Exception exception) => exception switch
    {
        RpcRemoteException remote => remote.RemoteType,
        _ => exception.GetType().FullName ?? exception.GetType().Name,
    };

    /// <summary>Writes the span's W3C trace context into request headers.</summary>
    public static void InjectTraceContext(Activity activity, IDictionary<string, object?> headers)
    {
        if (activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null) return;
        headers[WireContract.TraceParentHeader] = activity.Id;
        if (!string.IsNullOrEmpty(activity.TraceStateString)) headers[WireContract.TraceStateHeader] = activity.TraceStateString;
    }

    /// <summary>Reads the caller's trace context from request headers; false when there is none or it is malformed.</summary>
    public static bool TryExtractTraceContext(IDictionary<string, object?>? headers, out ActivityContext context)
    {
        context = default;
        if (headers is null) return false;
        var traceParent = HeaderText(headers, WireContract.TraceParentHeader);
        if (traceParent is null) return false;
        return ActivityContext.TryParse(traceParent, HeaderText(headers, WireContract.TraceStateHeader), isRemote: true, out context);
    }

    /// <summary>RabbitMQ.Client hands string headers back as UTF-8 bytes.</summary>
    private static string? HeaderText(IDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value)
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string text => text,
                _ => null,
            }
            : null;
}
