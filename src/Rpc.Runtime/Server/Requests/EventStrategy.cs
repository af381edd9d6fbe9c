namespace RpcGen.Server.Requests;

/// <summary>
/// An event a subscription received: handled as one-way work (retried, then dead-lettered to the subscription's
/// dead-letter queue), never in place, since a subscription's queue keeps no order.
/// </summary>
internal sealed class EventStrategy : OneWayStrategy
{
    public EventStrategy() : base(ordered: false)
    {
    }
}
