using System;
using System.Collections.Generic;
using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>One message in a queue: what was published (the broker's own copy), and what the broker knows of its life.</summary>
internal sealed class MemoryMessage
{
    public MemoryMessage(string exchange, string routingKey, BasicProperties properties, byte[] body, long enqueuedAt)
    {
        Exchange = exchange;
        RoutingKey = routingKey;
        Properties = properties;
        Body = body;
        EnqueuedAt = enqueuedAt;
    }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public BasicProperties Properties { get; }

    public byte[] Body { get; }

    /// <summary>When it entered its queue, in Unix milliseconds of the broker's clock (for TTLs).</summary>
    public long EnqueuedAt { get; set; }

    /// <summary>Delivered before and given back (a nack or reject with requeue, a closed channel).</summary>
    public bool Redelivered { get; set; }

    /// <summary>How often a quorum queue took it back: x-delivery-count, checked against x-delivery-limit.</summary>
    public long DeliveryCount { get; set; }

    /// <summary>A copy as it enters another queue (dead-lettered, or routed to several queues).</summary>
    public MemoryMessage CopyFor(string exchange, string routingKey, long now, IDictionary<string, object?>? headers)
    {
        var properties = new BasicProperties(Properties) { Headers = headers ?? CopyHeaders(Properties.Headers) };
        return new MemoryMessage(exchange, routingKey, properties, Body, now);
    }

    public static IDictionary<string, object?>? CopyHeaders(IDictionary<string, object?>? headers) =>
        headers is null ? null : new Dictionary<string, object?>(headers, StringComparer.Ordinal);
}
