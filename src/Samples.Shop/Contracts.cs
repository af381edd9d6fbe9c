using System.Threading.Tasks;
using RpcGen;

namespace Samples.Shop;

/// <summary>One line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>What the order service tells everyone once an order is paid for: the event on the topic exchange.</summary>
public sealed record OrderPlaced(string OrderId, string Region, OrderLine[] Lines, decimal Total, string PaymentId);

/// <summary>The stock service, called over RPC (queue <c>shop.stock</c>).</summary>
[RpcService(Queue = "shop.stock")]
public interface IStock
{
    /// <summary>Holds <paramref name="quantity"/> of <paramref name="sku"/> for an order; false when there are not enough.</summary>
    Task<bool> ReserveAsync(string sku, int quantity);

    /// <summary>
    /// Gives a reservation back. One-way: durable work the caller hands off without waiting for the stock service,
    /// which gets it even if it is down right now.
    /// </summary>
    [RpcMethod(OneWay = true)]
    Task ReleaseAsync(string sku, int quantity);
}

/// <summary>The payment service, called over RPC (queue <c>shop.payments</c>).</summary>
[RpcService(Queue = "shop.payments")]
public interface IPayments
{
    /// <summary>Charges the order; returns the payment id. Throws when the charge is declined.</summary>
    Task<string> ChargeAsync(string orderId, decimal amount);
}

/// <summary>
/// The order service's events, on the topic exchange <c>shop.orders</c>. The routing key is
/// <c>order.placed.{region}</c>, so a subscriber binds <c>order.placed.eu</c>, <c>order.placed.*</c> or <c>order.#</c>.
/// </summary>
[RpcEvents(Exchange = "shop.orders", Type = RpcExchangeType.Topic)]
public interface IOrderEvents
{
    /// <summary>An order was paid for and its stock is reserved.</summary>
    Task OrderPlacedAsync([RpcRoutingKey] string routingKey, OrderPlaced order);
}
