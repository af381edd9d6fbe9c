namespace RpcGen.Outbox.Benchmarks;

/// <summary>The benchmark's event: what a shop announces per order.</summary>
public sealed record BenchOrderPlaced(long OrderId, string Customer, decimal Total);

/// <summary>RpcGen's events interface for it (topic exchange <c>bench.orders</c>).</summary>
[RpcEvents(Exchange = "bench.orders", Type = RpcExchangeType.Topic)]
public interface IBenchOrderEvents
{
    /// <summary>An order was saved.</summary>
    Task OrderPlacedAsync(BenchOrderPlaced order);
}
