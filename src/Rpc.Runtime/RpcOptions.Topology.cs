using System;
using System.Collections.Generic;

namespace RpcGen;

public sealed partial class RpcOptions
{
    /// <summary>How RpcGen treats single queues, keyed by the queue name without <see cref="QueuePrefix"/>; a queue not listed is declared (<see cref="RpcQueueTopology.Declare"/>).</summary>
    internal IDictionary<string, RpcQueueTopology> QueueTopologies { get; set; } = new Dictionary<string, RpcQueueTopology>(StringComparer.Ordinal);

    /// <summary>How RpcGen treats events exchanges, keyed by the exchange name without <see cref="QueuePrefix"/>; one not listed is declared.</summary>
    internal IDictionary<string, RpcExchangeTopology> ExchangeTopologies { get; set; } = new Dictionary<string, RpcExchangeTopology>(StringComparer.Ordinal);
}
