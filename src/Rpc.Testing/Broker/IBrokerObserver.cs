using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>What the in-memory broker tells the harness: every message published, delivered, queued and settled.</summary>
internal interface IBrokerObserver
{
    /// <summary>A message was published and routed to <paramref name="routed"/> queues (a direct reply counts as one).</summary>
    void Published(string exchange, string routingKey, IReadOnlyBasicProperties properties, int routed);

    /// <summary>A message entered <paramref name="queue"/> (published, requeued excluded, or dead-lettered there).</summary>
    void Enqueued(string queue, IReadOnlyBasicProperties properties);

    /// <summary>A message of <paramref name="queue"/> was handed to a consumer.</summary>
    void Delivered(string queue, string exchange, IReadOnlyBasicProperties properties, bool redelivered);

    /// <summary>A delivery from <paramref name="queue"/> was acked (<paramref name="requeued"/> null), or nacked or rejected.</summary>
    void Settled(string queue, IReadOnlyBasicProperties properties, bool? requeued);
}
