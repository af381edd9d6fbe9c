using System.Collections.Generic;

namespace RpcGen;

/// <summary>Where and how a subscriber receives events: its queue and the bindings that fill it.</summary>
public sealed class RpcSubscription
{
    /// <summary>
    /// The subscription's queue. A name makes a durable queue shared by every subscriber that uses it: a group of
    /// competing consumers, each event handled once per group, and events wait there while no member runs.
    /// <see cref="RpcConnectionOptions.QueuePrefix"/> goes before it. Empty (the default) makes an exclusive, server-named
    /// queue deleted with the subscription: this subscriber alone gets every matching event, while it runs.
    /// </summary>
    public string Queue { get; set; } = string.Empty;

    /// <summary>
    /// The binding keys: routing keys for a direct exchange, patterns for a topic exchange (<c>*</c> one word,
    /// <c>#</c> zero or more: <c>order.*.eu</c>, <c>order.#</c>). Ignored by a fanout exchange. Empty binds every
    /// event: <c>#</c> on a topic exchange, each event's wire name on a direct exchange.
    /// </summary>
    public IList<string> Bindings { get; } = new List<string>();

    /// <summary>
    /// How RpcGen treats the named <see cref="Queue"/>: declared by RpcGen's rules, used as it exists, or declared as
    /// given (docs/interop.md, "Meeting existing topology"). <see langword="null"/> (the default) takes the connection's
    /// topology for the queue's name, else <see cref="RpcQueueTopology.Declare"/>. A queue used as it exists gets only
    /// the <see cref="Bindings"/> listed, never the default ones. Ignored for the exclusive queue of an empty <see cref="Queue"/>.
    /// </summary>
    public RpcQueueTopology? QueueTopology { get; set; }

    /// <summary>How many events the subscriber takes at once; <see langword="null"/> (the default) is <see cref="RpcServerOptions.Prefetch"/>.</summary>
    public ushort? Prefetch { get; set; }
}
