using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Samples.NativeAot;

/// <summary>An in-memory store, registered as a singleton so the calls of one run see each other's writes.</summary>
public sealed class Inventory : IInventory
{
    private static readonly Dictionary<string, decimal> s_prices = new(StringComparer.Ordinal)
    {
        ["apple"] = 0.35m,
        ["pear"] = 0.42m,
    };

    private readonly ConcurrentDictionary<string, int> _stock = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task<int> CountAsync(string product, CancellationToken cancellationToken = default) =>
        _stock.TryGetValue(product, out var quantity)
            ? Task.FromResult(quantity)
            : throw new KeyNotFoundException($"No stock of '{product}'.");

    /// <inheritdoc/>
    public Task<StockLine> StoreAsync(string product, int quantity, CancellationToken cancellationToken = default)
    {
        if (!s_prices.TryGetValue(product, out var price)) throw new ArgumentException($"Unknown product '{product}'.", nameof(product));
        var total = _stock.AddOrUpdate(product, quantity, (_, held) => checked(held + quantity));
        return Task.FromResult(new StockLine(product, total, price));
    }

    /// <inheritdoc/>
    public Task<Dictionary<string, decimal>> PricesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new Dictionary<string, decimal>(s_prices, StringComparer.Ordinal));
}
