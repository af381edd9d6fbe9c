using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Samples.Shop;

/// <summary>The stock service's implementation: an in-memory warehouse.</summary>
public sealed class Stock : IStock
{
    private readonly ConcurrentDictionary<string, int> _onHand = new(StringComparer.Ordinal)
    {
        ["book"] = 10,
        ["lamp"] = 3,
        ["chair"] = 4,
    };

    /// <inheritdoc/>
    public Task<bool> ReserveAsync(string sku, int quantity)
    {
        while (true)
        {
            if (!_onHand.TryGetValue(sku, out var left) || left < quantity) return Task.FromResult(false);
            if (_onHand.TryUpdate(sku, left - quantity, left)) return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(string sku, int quantity)
    {
        _onHand.AddOrUpdate(sku, quantity, (_, left) => left + quantity);
        Console.WriteLine($"  {"stock",-13} released {quantity} x {sku}");
        return Task.CompletedTask;
    }
}

/// <summary>The payment service's implementation: declines anything over its limit.</summary>
public sealed class Payments : IPayments
{
    /// <summary>Charges above this are declined.</summary>
    public const decimal Limit = 300m;

    private int _next;

    /// <inheritdoc/>
    public Task<string> ChargeAsync(string orderId, decimal amount)
    {
        if (amount > Limit) throw new InvalidOperationException($"card declined: {amount:0.00} is over the {Limit:0} limit");
        return Task.FromResult($"pay-{Interlocked.Increment(ref _next):000}");
    }
}

/// <summary>
/// The order service: reserves stock and charges over RPC, then publishes <see cref="OrderPlaced"/>. It waits for
/// neither logistics nor notifications: they hear of the order through the exchange, whenever they run. With a
/// <paramref name="store"/>, the order is saved and its event written to the outbox in one transaction instead.
/// </summary>
public sealed class OrderService(IStock stock, IPayments payments, IOrderEvents events, IOrderStore? store = null)
{
    /// <summary>Places the order; returns its event, or throws saying why it was refused.</summary>
    public async Task<OrderPlaced> PlaceAsync(string orderId, string region, params OrderLine[] lines)
    {
        var reserved = new List<OrderLine>();
        string paymentId;
        var total = lines.Sum(l => l.Quantity * l.UnitPrice);
        try
        {
            foreach (var line in lines)
            {
                if (!await stock.ReserveAsync(line.Sku, line.Quantity)) throw new InvalidOperationException($"out of stock: {line.Quantity} x {line.Sku}");
                reserved.Add(line);
            }

            paymentId = await payments.ChargeAsync(orderId, total);
        }
        catch (Exception)
        {
            foreach (var line in reserved) await stock.ReleaseAsync(line.Sku, line.Quantity);
            throw;
        }

        var placed = new OrderPlaced(orderId, region, lines, total, paymentId);
        // Completes once the broker has the event (persistent, confirmed) in every bound queue; with a store, once the
        // order and its event are committed (the outbox's relay publishes the event after the commit).
        if (store is not null) await store.SaveAsync(placed, "order.placed." + region);
        else await events.OrderPlacedAsync("order.placed." + region, placed);
        return placed;
    }
}

/// <summary>A subscriber group's handler: records what it handled and says so.</summary>
public sealed class OrderHandler(string group, Func<OrderPlaced, string> describe) : IOrderEvents
{
    private readonly ConcurrentQueue<string> _handled = new();

    /// <summary>The order ids this group handled.</summary>
    public IReadOnlyCollection<string> Handled => _handled;

    /// <inheritdoc/>
    public Task OrderPlacedAsync(string routingKey, OrderPlaced order)
    {
        _handled.Enqueue(order.OrderId);
        Console.WriteLine($"  {group,-13} {describe(order)}   (routing key {routingKey})");
        return Task.CompletedTask;
    }
}
