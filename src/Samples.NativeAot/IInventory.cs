using System.Collections.Generic;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.NativeAot;

/// <summary>
/// The contract the native binary serves and calls: a scalar, a record, a dictionary and an error reply. Naming the
/// context makes a contract type it misses a compile-time error (RPCGEN015) rather than a first-call failure.
/// </summary>
[RpcService(JsonContext = typeof(InventoryJsonContext))]
public interface IInventory
{
    /// <summary>How many items of a product are in stock; an unknown product is an error reply.</summary>
    Task<int> CountAsync(string product, CancellationToken cancellationToken = default);

    /// <summary>Stores a line of stock and says what the store now holds.</summary>
    Task<StockLine> StoreAsync(string product, int quantity, CancellationToken cancellationToken = default);

    /// <summary>The price of each product, in the store's currency.</summary>
    Task<Dictionary<string, decimal>> PricesAsync(CancellationToken cancellationToken = default);
}

/// <summary>One product's stock.</summary>
public sealed record StockLine(string Product, int Quantity, decimal Price);

/// <summary>
/// Serialisation generated at compile time for every type the calls carry: NativeAOT has no reflection-based JSON.
/// </summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(StockLine))]
[JsonSerializable(typeof(Dictionary<string, decimal>))]
public sealed partial class InventoryJsonContext : JsonSerializerContext
{
}
