using System;
using System.Collections.Generic;

namespace RpcGen;

/// <summary>
/// How an <see cref="RpcConnection"/> declares the queues of its services, one-way work and named subscriptions
/// (<see cref="RpcConnectionOptions.Topology"/>; configuration section <c>RpcGen:Topology</c>). Checked when the connection opens.
/// </summary>
public sealed class RpcTopologyOptions
{
    internal RpcTopologyOptions()
    {
    }

    /// <summary>
    /// The queue type of the service request queues a server declares (and of durable one-way work and named event
    /// subscription queues). <see cref="RpcQueueType.Quorum"/> survives the loss of a cluster node; see docs/cluster.md
    /// for when it is worth its cost. Defaults to <see cref="RpcQueueType.Classic"/>.
    /// </summary>
    public RpcQueueType QueueType { get; set; } = RpcQueueType.Classic;

    /// <summary>
    /// Queue types for single queues, keyed by the queue name without <see cref="RpcConnectionOptions.QueuePrefix"/> (a
    /// service's queue is its name unless <c>[RpcService(Queue = ...)]</c> says otherwise), over <see cref="QueueType"/>;
    /// configuration keys <c>RpcGen:Topology:QueueTypes:Orders</c> = <c>Quorum</c>. Defaults to empty.
    /// </summary>
    public IDictionary<string, RpcQueueType> QueueTypes { get; set; } = new Dictionary<string, RpcQueueType>(StringComparer.Ordinal);

    /// <summary>
    /// For quorum queues: how many times the broker delivers one message before it dead-letters it to
    /// <c>{queue}.dead-letter</c> (a delivery ends without an ack when a server dies or loses its channel mid-call).
    /// It stops a request that crashes every server it reaches from looping through them. At least 1. Defaults to 5.
    /// Changing it for an existing queue is a mismatch the broker refuses: delete the queue or keep the old value.
    /// </summary>
    public int QuorumDeliveryLimit { get; set; } = 5;

    /// <summary>
    /// How RpcGen treats single queues (a service's request queue, a named subscription's queue), keyed by the queue name
    /// without <see cref="RpcConnectionOptions.QueuePrefix"/>: declared by RpcGen's rules (the default for a queue not
    /// listed), used as it exists (<see cref="RpcQueueTopology.UseExisting"/>), or declared exactly as given
    /// (<see cref="RpcTopologyMode.DeclareAsGiven"/>), to meet a queue another system declared (docs/interop.md,
    /// "Meeting existing topology"). Configuration keys <c>RpcGen:Topology:Queues:task_queue</c> = <c>UseExisting</c>, or
    /// <c>...:task_queue:Mode</c>, <c>:Durable</c> and <c>:Arguments:x-queue-type</c>. Defaults to empty.
    /// </summary>
    public IDictionary<string, RpcQueueTopology> Queues { get; set; } = new Dictionary<string, RpcQueueTopology>(StringComparer.Ordinal);

    /// <summary>
    /// How RpcGen treats the exchanges of <see cref="RpcEventsAttribute"/> interfaces, for publishers and subscribers alike,
    /// keyed by the exchange name without <see cref="RpcConnectionOptions.QueuePrefix"/>: declared durable by RpcGen (the
    /// default), used as it exists, or declared as given (the tutorials' non-durable <c>topic_logs</c>:
    /// <c>new RpcExchangeTopology { Mode = RpcTopologyMode.DeclareAsGiven, Durable = false }</c>). Configuration keys as
    /// for <see cref="Queues"/>, under <c>RpcGen:Topology:Exchanges</c>. Defaults to empty.
    /// </summary>
    public IDictionary<string, RpcExchangeTopology> Exchanges { get; set; } = new Dictionary<string, RpcExchangeTopology>(StringComparer.Ordinal);
}
