using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RpcGen.Diagnostics;
using RpcGen.Wire;

namespace RpcGen.Capture;

/// <summary>
/// A capturing invoker's send and publish: the message <see cref="Client.WorkPublisher"/> would publish, with the same
/// destination, type, message id rule, persistence and time-to-live, handed to the sink instead.
/// </summary>
internal sealed class MessageCapture(IRpcMessageSink sink, RpcSettings options) : Client.IOneWaySender
{
    public Task SendAsync(RpcRequest request, RabbitMQ.Client.CachedString queue, CancellationToken cancellationToken) =>
        CaptureAsync(request, queue.Value, routingKey: null, cancellationToken);

    public Task PublishEventAsync(RpcRequest request, string? routingKey, CancellationToken cancellationToken) =>
        CaptureAsync(request, workQueue: null, routingKey, cancellationToken);

    // workQueue: the service queue a one-way request would be published to (the invoker's); null for an event.
    private async Task CaptureAsync(RpcRequest request, string? workQueue, string? routingKey, CancellationToken cancellationToken)
    {
        var method = request.Method;
        RpcOutgoingMessage message;
        try
        {
            // Copied: the pooled body writer goes back now, and the sink keeps the body for as long as it likes.
            var body = request.CompleteBody().ToArray();
            var service = method.Service;
            if (workQueue is null)
            {
                var exchange = options.ExchangeFor((RpcEventsDescriptor)service);
                message = new RpcOutgoingMessage(service.Name, method.WireName, isEvent: true, exchange, routingKey ?? method.WireName,
                    WireContract.NewMessageId(), body) { Headers = TraceContext() };
            }
            else
            {
                message = new RpcOutgoingMessage(service.Name, method.WireName, isEvent: false, WireContract.DefaultExchange, workQueue,
                    WireContract.NewMessageId(), body)
                {
                    Expiration = WireContract.WorkExpirationFor(method),
                    Headers = TraceContext(),
                };
            }
        }
        finally
        {
            request.Release();
        }

        await sink.CaptureAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The caller's trace context, so the handler's span joins the trace that made the message, however late it is published.</summary>
    private static Dictionary<string, string>? TraceContext()
    {
        if (Activity.Current is not { } current) return null;
        var headers = new Dictionary<string, object?>(2);
        RpcTelemetry.InjectTraceContext(current, headers);
        if (headers.Count == 0) return null;
        var text = new Dictionary<string, string>(headers.Count, StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            if (value is string s) text[name] = s;
        }

        return text;
    }

    public static NotSupportedException CallNotSupported(RpcMethodDescriptor method) =>
        new($"RPC {method.Service.Name}.{method.WireName} has a reply, so it cannot be captured (an outbox keeps only one-way work and events); " +
            "call it with a client of an RpcConnection.");
}
