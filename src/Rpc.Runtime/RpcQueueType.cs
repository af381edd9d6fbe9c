namespace RpcGen;

/// <summary>The kind of RabbitMQ queue RpcGen declares for a service's requests (and durable work and subscriptions).</summary>
public enum RpcQueueType
{
    /// <summary>
    /// A classic queue: one copy, on the node that declared it. The fastest, and the default; in a cluster, the queue is
    /// out of service while its node is down (docs/cluster.md).
    /// </summary>
    Classic = 0,

    /// <summary>
    /// A quorum queue: replicated by Raft over the cluster's nodes, so it survives losing a minority of them. Every
    /// message is written to a majority of nodes (and fsynced) before it is confirmed, which costs each call time
    /// (docs/performance.md). Gets <see cref="RpcTopologyOptions.QuorumDeliveryLimit"/> and a dead-letter queue. Not a cure for a
    /// single node's crash: on RabbitMQ 3.10 a single-node quorum queue declared moments before a <c>kill -9</c> came back
    /// empty in 20 of 20 runs, a classic one was lost in 1 of 20 (docs/reliability.md, "Durable work and kill -9").
    /// </summary>
    Quorum = 1,
}
