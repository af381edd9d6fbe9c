using System;
using System.Collections.Generic;

namespace RpcGen.Testing.Broker;

/// <summary>A queue: its messages ready for delivery, its consumers, and the arguments that change what happens to them.</summary>
internal sealed class MemoryQueue
{
    private int _nextConsumer;

    public MemoryQueue(string name, bool durable, bool exclusive, bool autoDelete, IDictionary<string, object?>? arguments, MemoryConnection? owner)
    {
        Name = name;
        Durable = durable;
        Exclusive = exclusive;
        AutoDelete = autoDelete;
        Arguments = arguments is null ? new Dictionary<string, object?>(StringComparer.Ordinal) : new Dictionary<string, object?>(arguments, StringComparer.Ordinal);
        Owner = owner;
        Quorum = HeadersMatcher.Text(Argument("x-queue-type")) == "quorum";
        DeliveryLimit = Number("x-delivery-limit");
        DeadLetterExchange = HeadersMatcher.Text(Argument("x-dead-letter-exchange"));
        DeadLetterRoutingKey = HeadersMatcher.Text(Argument("x-dead-letter-routing-key"));
        MessageTtl = Number("x-message-ttl");
        MaxLength = Number("x-max-length");
        SingleActiveConsumer = Argument("x-single-active-consumer") is true;
    }

    public string Name { get; }

    public bool Durable { get; }

    public bool Exclusive { get; }

    public bool AutoDelete { get; }

    public Dictionary<string, object?> Arguments { get; }

    /// <summary>The connection an exclusive queue belongs to; it goes when that connection closes.</summary>
    public MemoryConnection? Owner { get; }

    public bool Quorum { get; }

    public long? DeliveryLimit { get; }

    public string? DeadLetterExchange { get; }

    public string? DeadLetterRoutingKey { get; }

    public long? MessageTtl { get; }

    public long? MaxLength { get; }

    public bool SingleActiveConsumer { get; }

    public LinkedList<MemoryMessage> Ready { get; } = new();

    public List<MemoryConsumer> Consumers { get; } = new();

    /// <summary>Simulation: the queue's consumers take nothing and count as none, as when no server runs.</summary>
    public bool Held { get; set; }

    /// <summary>A request named this queue as its <c>reply_to</c>: what reaches it through the default exchange is a reply (<see cref="InMemoryBroker.RepliesToDrop"/>).</summary>
    public bool NamedAsReplyTo { get; set; }

    /// <summary>Simulation: the next delivery carries redelivered, as after a consumer that died before it acked.</summary>
    public bool RedeliverNext { get; set; }

    /// <summary>Consumers as the broker reports them (a held queue shows none).</summary>
    public uint ConsumerCount => Held ? 0 : (uint)Consumers.Count;

    public object? Argument(string name) => Arguments.TryGetValue(name, out var value) ? value : null;

    /// <summary>The next consumer that may take a message: round robin among those under their prefetch; the first alone with single active consumer.</summary>
    public MemoryConsumer? NextConsumer()
    {
        if (Held || Consumers.Count == 0) return null;
        if (SingleActiveConsumer) return Consumers[0].HasCapacity ? Consumers[0] : null;
        for (int i = 0; i < Consumers.Count; i++)
        {
            var consumer = Consumers[(_nextConsumer + i) % Consumers.Count];
            if (!consumer.HasCapacity) continue;
            _nextConsumer = (_nextConsumer + i + 1) % Consumers.Count;
            return consumer;
        }

        return null;
    }

    /// <summary>When <paramref name="message"/> expires here (Unix ms), from its own expiration and the queue's TTL; null: never.</summary>
    public long? ExpiresAt(MemoryMessage message)
    {
        long? ttl = MessageTtl;
        if (long.TryParse(message.Properties.Expiration, out var own)) ttl = ttl is { } queue ? Math.Min(queue, own) : own;
        return ttl is { } limit ? message.EnqueuedAt + limit : null;
    }

    private long? Number(string name) => Argument(name) switch
    {
        null => null,
        IConvertible number => number.ToInt64(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
