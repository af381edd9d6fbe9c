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

            var run = new OrderRun();

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
            var placed = await run.PlaceAllAsync(orders, (order, region) => $"saved {order.OrderId} for {order.Total:0.00} ({region}) with its OrderPlaced in one transaction");

            var expectedLogistics = new[] { run.Id(1), run.Id(2) };
            if (!await WaitAsync(() => run.Mine(notifications).Count >= placed.Count)) return Fail($"notifications handled {run.Mine(notifications).Count} of {placed.Count} events");
            if (!await WaitAsync(() => relay.PublishedCount >= placed.Count)) return Fail($"the relay published {relay.PublishedCount} of {placed.Count} events");
            long saved = await store.CountAsync(run.Prefix);
            await using (var count = dataSource.CreateCommand("SELECT count(*) FROM rpcgen_outbox"))
            {
                Console.WriteLine($"PostgreSQL holds {saved} orders of this run; the relay published {relay.PublishedCount} OrderPlaced events " +
                    $"and the outbox holds {(long)(await count.ExecuteScalarAsync())!} rows.");
            }

            uint waiting = await QueueDepthAsync(uri, "shop.logistics");
            Console.WriteLine($"logistics is still down: {waiting} OrderPlaced events are waiting in its durable queue 'shop.logistics'. Starting it:");
            await using var logisticsSubscriber = await logisticsConnection.SubscribeAsync<IOrderEvents>(logistics, logisticsSubscription);
            if (!await WaitAsync(() => run.Mine(logistics).Count >= expectedLogistics.Length)) return Fail($"logistics handled {run.Mine(logistics).Count} of {expectedLogistics.Length} events");
            await Task.Delay(200);

            if (saved != placed.Count) return Fail($"{saved} orders saved; {placed.Count} placed");
            if (!run.Mine(logistics).Order().SequenceEqual(expectedLogistics)) return Fail($"logistics handled {string.Join(", ", run.Mine(logistics))}; expected {string.Join(", ", expectedLogistics)}");
            if (!run.Mine(notifications).Order().SequenceEqual(placed)) return Fail($"notifications handled {string.Join(", ", run.Mine(notifications))}; expected {string.Join(", ", placed)}");
            Console.WriteLine($"Done: {placed.Count} orders saved and announced through the outbox, 2 refused; notifications handled " +
                $"{run.Mine(notifications).Count} of {placed.Count}, logistics {run.Mine(logistics).Count} of {expectedLogistics.Length} after it was back.");
            return 0;
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
