using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Npgsql;
using RabbitMQ.Client;
using RpcGen;
using RpcGen.PostgreSql;

namespace Samples.Shop;

/// <summary>
/// The shop with its orders in PostgreSQL (Samples.Shop --postgres CONNECTION): each order is saved in the transaction
/// that writes its OrderPlaced to the outbox, and the outbox's relay publishes the events after the commits.
/// Logistics is down while the orders come in and catches up when it starts; notifications runs throughout.
/// Exits 0 only when the orders are saved, the outbox is empty, and both groups got exactly their events.
/// </summary>
public static class ShopWithOutbox
{
    public static async Task<int> RunAsync(Uri uri, string postgres)
    {
        var connections = new List<RpcConnection>();
        await using var dataSource = NpgsqlDataSource.Create(postgres);
        try
        {
            async Task<RpcConnection> ConnectAsync(string service)
            {
                var connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = uri, ConnectionName = "shop " + service });
                connections.Add(connection);
                return connection;
            }

            var run = Guid.NewGuid().ToString("N")[..6];
            string Id(int n) => $"{run}-{n}";
            var catalog = new Dictionary<string, decimal> { ["book"] = 12.50m, ["lamp"] = 40m, ["chair"] = 120m };
            OrderLine Line(string sku, int quantity) => new(sku, quantity, catalog[sku]);

            await using var stockServer = await (await ConnectAsync("stock")).ServeAsync<IStock>(new Stock());
            await using var paymentServer = await (await ConnectAsync("payments")).ServeAsync<IPayments>(new Payments());
            var notifications = new OrderHandler("notifications", o => $"mails the receipt of {o.OrderId}: {o.Total:0.00} paid ({o.PaymentId})");
            await using var notificationsSubscriber = await (await ConnectAsync("notifications")).SubscribeAsync<IOrderEvents>(notifications,
                new RpcSubscription { Queue = "shop.notifications", Bindings = { "order.#" } });

            // Logistics subscribes once (its durable queue is declared) and goes down.
            var logistics = new OrderHandler("logistics", o => $"ships {o.OrderId} ({string.Join(", ", o.Lines.Select(l => $"{l.Quantity} x {l.Sku}"))}) to {o.Region}");
            var logisticsSubscription = new RpcSubscription { Queue = "shop.logistics", Bindings = { "order.placed.eu", "order.placed.us" } };
            var logisticsConnection = await ConnectAsync("logistics");
            await (await logisticsConnection.SubscribeAsync<IOrderEvents>(logistics, logisticsSubscription)).DisposeAsync();

            var ordersConnection = await ConnectAsync("orders");
            var outbox = new PostgresOutbox(ordersConnection);
            var store = new PostgresOrderStore(dataSource, outbox);
            await store.CreateTablesAsync();
            await using var relay = new PostgresOutboxRelay(dataSource, ordersConnection);
            await relay.StartAsync(default);
            Console.WriteLine("Shop with its orders in PostgreSQL: each order and its OrderPlaced are committed together (the outbox),");
            Console.WriteLine("and the relay publishes the events after the commit. Logistics is down for now. Placing orders:");

            var orders = new OrderService(ordersConnection.CreateClient<IStock>(), ordersConnection.CreateClient<IPayments>(),
                ordersConnection.CreatePublisher<IOrderEvents>(), store);
            var attempts = new (string Id, string Region, OrderLine[] Lines)[]
            {
                (Id(1), "eu", [Line("book", 2), Line("lamp", 1)]),
                (Id(2), "us", [Line("chair", 1)]),
                (Id(3), "eu", [Line("lamp", 5)]),
                (Id(4), "asia", [Line("chair", 3)]),
                (Id(5), "asia", [Line("lamp", 2)]),
            };
            var placed = new List<string>();
            foreach (var (id, region, lines) in attempts)
            {
                try
                {
                    var order = await orders.PlaceAsync(id, region, lines);
                    placed.Add(order.OrderId);
                    Console.WriteLine($"  {"orders",-13} saved {order.OrderId} for {order.Total:0.00} ({region}) with its OrderPlaced in one transaction");
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

            var expectedLogistics = new[] { Id(1), Id(2) };
            if (!await WaitAsync(() => Mine(notifications).Count >= placed.Count)) return Fail($"notifications handled {Mine(notifications).Count} of {placed.Count} events");
            if (!await WaitAsync(() => relay.PublishedCount >= placed.Count)) return Fail($"the relay published {relay.PublishedCount} of {placed.Count} events");
            long saved = await store.CountAsync(run);
            await using (var count = dataSource.CreateCommand("SELECT count(*) FROM rpcgen_outbox"))
            {
                Console.WriteLine($"PostgreSQL holds {saved} orders of this run; the relay published {relay.PublishedCount} OrderPlaced events " +
                    $"and the outbox holds {(long)(await count.ExecuteScalarAsync())!} rows.");
            }

            uint waiting = await QueueDepthAsync(uri, "shop.logistics");
            Console.WriteLine($"logistics is still down: {waiting} OrderPlaced events are waiting in its durable queue 'shop.logistics'. Starting it:");
            await using var logisticsSubscriber = await logisticsConnection.SubscribeAsync<IOrderEvents>(logistics, logisticsSubscription);
            if (!await WaitAsync(() => Mine(logistics).Count >= expectedLogistics.Length)) return Fail($"logistics handled {Mine(logistics).Count} of {expectedLogistics.Length} events");
            await Task.Delay(200);

            if (saved != placed.Count) return Fail($"{saved} orders saved; {placed.Count} placed");
            if (!Mine(logistics).Order().SequenceEqual(expectedLogistics)) return Fail($"logistics handled {string.Join(", ", Mine(logistics))}; expected {string.Join(", ", expectedLogistics)}");
            if (!Mine(notifications).Order().SequenceEqual(placed)) return Fail($"notifications handled {string.Join(", ", Mine(notifications))}; expected {string.Join(", ", placed)}");
            Console.WriteLine($"Done: {placed.Count} orders saved and announced through the outbox, 2 refused; notifications handled " +
                $"{Mine(notifications).Count} of {placed.Count}, logistics {Mine(logistics).Count} of {expectedLogistics.Length} after it was back.");
            return 0;

            List<string> Mine(OrderHandler handler) => handler.Handled.Where(id => id.StartsWith(run + "-", StringComparison.Ordinal)).ToList();
        }
        catch (RpcConnectionException e)
        {
            return Fail(e.Message);
        }
        catch (NpgsqlException e)
        {
            return Fail("PostgreSQL: " + e.Message);
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    private static async Task<bool> WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(20);
        }

        return true;
    }

    private static async Task<uint> QueueDepthAsync(Uri uri, string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return 1;
    }
}
