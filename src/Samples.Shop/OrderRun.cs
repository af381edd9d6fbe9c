using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.Shop;

/// <summary>
/// The five orders one run of the shop places, with ids that carry the run's own prefix, so a run counts only its own
/// events when an earlier run's are still in a durable queue.
/// </summary>
public sealed class OrderRun
{
    private static readonly Dictionary<string, decimal> s_catalog = new() { ["book"] = 12.50m, ["lamp"] = 40m, ["chair"] = 120m };

    /// <summary>The run's prefix of every order id.</summary>
    public string Prefix { get; } = Guid.NewGuid().ToString("N")[..6];

    /// <summary>The id of the run's order <paramref name="n"/> (1 to 5).</summary>
    public string Id(int n) => $"{Prefix}-{n}";

    /// <summary>The order ids of this run that <paramref name="handler"/> handled.</summary>
    public List<string> Mine(OrderHandler handler) => handler.Handled.Where(id => id.StartsWith(Prefix + "-", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Places the five orders, two of which are refused (order 3 wants more lamps than are left; order 4 is over the card
    /// limit, so its chairs go back), prints each outcome, and returns the ids of the orders placed.
    /// </summary>
    /// <param name="orders">The order service.</param>
    /// <param name="placed">What the line of a placed order says after "orders".</param>
    public async Task<List<string>> PlaceAllAsync(OrderService orders, Func<OrderPlaced, string, string> placed)
    {
        var attempts = new (string Id, string Region, OrderLine[] Lines)[]
        {
            (Id(1), "eu", [Line("book", 2), Line("lamp", 1)]),
            (Id(2), "us", [Line("chair", 1)]),
            (Id(3), "eu", [Line("lamp", 5)]),
            (Id(4), "asia", [Line("chair", 3)]),
            (Id(5), "asia", [Line("lamp", 2)]),
        };
        var ids = new List<string>();
        foreach (var (id, region, lines) in attempts)
        {
            try
            {
                var order = await orders.PlaceAsync(id, region, lines);
                ids.Add(order.OrderId);
                Console.WriteLine($"  {"orders",-13} {placed(order, region)}");
            }
            catch (RpcRemoteException e)
            {
                Console.WriteLine($"  {"orders",-13} refused {id}: payments said {e.RemoteMessage}");
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"  {"orders",-13} refused {id}: {e.Message}");
            }
        }

        return ids;
    }

    private static OrderLine Line(string sku, int quantity) => new(sku, quantity, s_catalog[sku]);
}
