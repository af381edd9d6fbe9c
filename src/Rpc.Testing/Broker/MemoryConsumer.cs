using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>A consumer on a queue, with the prefetch its channel had when it started and the deliveries it has not settled.</summary>
internal sealed class MemoryConsumer
{
    public MemoryConsumer(string tag, MemoryChannel channel, MemoryQueue queue, bool autoAck, ushort prefetch, IAsyncBasicConsumer consumer)
    {
        Tag = tag;
        Channel = channel;
        Queue = queue;
        AutoAck = autoAck;
        Prefetch = prefetch;
        Consumer = consumer;
    }

    public string Tag { get; }

    public MemoryChannel Channel { get; }

    public MemoryQueue Queue { get; }

    public bool AutoAck { get; }

    public ushort Prefetch { get; }

    public IAsyncBasicConsumer Consumer { get; }

    public int Unacked { get; set; }

    public bool HasCapacity => AutoAck || Prefetch == 0 || Unacked < Prefetch;
}

/// <summary>A delivery its channel has not settled yet; a basic.get's has no consumer.</summary>
internal sealed record MemoryUnacked(MemoryMessage Message, MemoryQueue Queue, MemoryConsumer? Consumer);
