using System;
using System.Collections.Generic;

namespace RpcGen;

/// <summary>
/// A one-way request or an event as it goes on the wire, made by a capturing client or publisher
/// (<see cref="RpcMessageCapture"/>) instead of being published, so that it can be stored (an outbox) and published
/// later, unchanged, with <see cref="RpcConnection.PublishAsync(RpcOutgoingMessage, System.Threading.CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Everything the broker and the handler see is here: the message id the handler de-duplicates on
/// (<see cref="RpcContext.MessageId"/>) is made once, at capture, and every publish of the message carries it.
/// </remarks>
public sealed class RpcOutgoingMessage
{
    /// <summary>Creates a message; a capturing client makes them, a store reads them back with this constructor.</summary>
    /// <param name="service">The service or events interface name (<see cref="RpcServiceDescriptor.Name"/>).</param>
    /// <param name="method">The method's wire name, sent as the AMQP <c>type</c>.</param>
    /// <param name="isEvent">True for an event (to <paramref name="exchange"/>), false for one-way work (to the service queue).</param>
    /// <param name="exchange">The exchange: the events exchange, or the empty default exchange for work.</param>
    /// <param name="routingKey">The routing key: the event's, or the service queue's name for work.</param>
    /// <param name="messageId">The message id (<see cref="RpcContext.MessageId"/> on the handler's side).</param>
    /// <param name="body">The body, as the client wrote it.</param>
    /// <exception cref="ArgumentException">A name or the message id is empty.</exception>
    public RpcOutgoingMessage(string service, string method, bool isEvent, string exchange, string routingKey, string messageId, ReadOnlyMemory<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentException.ThrowIfNullOrEmpty(routingKey);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        Service = service;
        Method = method;
        IsEvent = isEvent;
        Exchange = exchange;
        RoutingKey = routingKey;
        MessageId = messageId;
        Body = body;
    }

    /// <summary>The service or events interface name.</summary>
    public string Service { get; }

    /// <summary>The method's wire name, sent as the AMQP <c>type</c>.</summary>
    public string Method { get; }

    /// <summary>True for an event, false for one-way work.</summary>
    public bool IsEvent { get; }

    /// <summary>The exchange (empty for work: the default exchange).</summary>
    public string Exchange { get; }

    /// <summary>The routing key (for work, the service queue's name).</summary>
    public string RoutingKey { get; }

    /// <summary>The message id, made once at capture and kept by every publish.</summary>
    public string MessageId { get; }

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The AMQP <c>content_type</c>; <c>application/json</c> unless the store says otherwise.</summary>
    public string ContentType { get; init; } = Wire.WireContract.JsonContentType;

    /// <summary>Whether the broker writes the message to disk (delivery mode 2); true for everything RpcGen sends this way.</summary>
    public bool Persistent { get; init; } = true;

    /// <summary>The AMQP <c>expiration</c> in milliseconds, as text (a method's time-to-live), or null for none.</summary>
    public string? Expiration { get; init; }

    /// <summary>Text headers (the caller's W3C trace context when there was one), or null.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
