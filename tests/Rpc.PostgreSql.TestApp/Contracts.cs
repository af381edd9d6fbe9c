namespace RpcGen.PostgreSql.TestApp;

/// <summary>What the test shop announces for each order it saves.</summary>
public sealed record OrderPlaced(long OrderId, string Tag);

/// <summary>The test shop's events (topic exchange <c>outbox.orders</c>, routing key the wire name).</summary>
[RpcEvents(Exchange = "outbox.orders", Type = RpcExchangeType.Topic)]
public interface IOrderEvents
{
    /// <summary>An order was saved.</summary>
    Task OrderPlacedAsync(OrderPlaced order);
}

/// <summary>The test shop's shipping service: durable one-way work, and one call with a reply (which an outbox refuses).</summary>
[RpcService(Queue = "outbox.shipping")]
public interface IShipping
{
    /// <summary>Ships an order: one-way work.</summary>
    [RpcMethod(OneWay = true)]
    Task ShipAsync(long orderId);

    /// <summary>How many orders were shipped: a call with a reply.</summary>
    Task<int> CountAsync();
}
