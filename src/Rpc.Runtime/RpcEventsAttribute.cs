using System;

namespace RpcGen;

/// <summary>
/// Marks an interface as a set of events published on a RabbitMQ exchange: every method (returning
/// <see cref="System.Threading.Tasks.Task"/> or <see cref="System.Threading.Tasks.ValueTask"/>) is an event. The RpcGen
/// source generator writes a publisher (<c>{Name}Publisher</c>, from <see cref="RpcConnection.CreatePublisher{TEvents}"/>)
/// and a subscriber dispatcher (used by <see cref="RpcConnection.SubscribeAsync{TEvents}(TEvents, RpcSubscription, System.Threading.CancellationToken)"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false, AllowMultiple = false)]
public sealed class RpcEventsAttribute : Attribute
{
    /// <summary>
    /// The exchange the events are published to, declared durable. Defaults to the interface name without its leading
    /// <c>I</c> (<c>IOrderEvents</c> → <c>OrderEvents</c>). <see cref="RpcConnectionOptions.QueuePrefix"/> goes before it.
    /// </summary>
    public string? Exchange { get; set; }

    /// <summary>How the exchange routes: <see cref="RpcExchangeType.Topic"/> by default.</summary>
    public RpcExchangeType Type { get; set; } = RpcExchangeType.Topic;
}

/// <summary>The AMQP exchange types events can be published on.</summary>
public enum RpcExchangeType
{
    /// <summary>Every bound queue gets every event; routing keys and bindings are ignored.</summary>
    Fanout = 0,

    /// <summary>A queue gets the events whose routing key equals one of its binding keys.</summary>
    Direct = 1,

    /// <summary>
    /// A queue gets the events whose routing key matches one of its binding patterns: words separated by <c>.</c>,
    /// where <c>*</c> stands for exactly one word and <c>#</c> for zero or more.
    /// </summary>
    Topic = 2,
}
