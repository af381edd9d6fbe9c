using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen;
using Samples.Shop;

// The shop: an order service calls stock and payments over RPC and publishes OrderPlaced on the topic exchange
// shop.orders; logistics and notifications subscribe as two groups with durable queues of their own. Notifications
// is down while the orders come in, and its events wait in its queue until it starts. Each service has a connection
// of its own, as separate processes would. Exits 0 only when both groups got exactly the events they are bound for.
// Usage: Samples.Shop [--amqp URI] [--postgres CONNECTION]   (else RPCGEN_AMQP, else amqp://guest:guest@localhost:5672/)
//        Samples.Shop asyncapi DIR    writes the contracts' AsyncAPI documents for rpcgen, and exits
if (args is ["asyncapi", var contracts]) return AsyncApiFiles.Write(contracts);
Uri uri = RpcConnectionOptions.DefaultUri;
int amqpAt = Array.IndexOf(args, "--amqp");
if (amqpAt >= 0 && amqpAt + 1 < args.Length) uri = new Uri(args[amqpAt + 1]);
else if (Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } fromEnvironment) uri = new Uri(fromEnvironment);
// --postgres CONNECTION: the orders in PostgreSQL, announced through the outbox (ShopWithOutbox.cs).
int postgresAt = Array.IndexOf(args, "--postgres");
if (postgresAt >= 0 && postgresAt + 1 < args.Length) return await ShopWithOutbox.RunAsync(uri, args[postgresAt + 1]);

var connections = new List<RpcConnection>();
try
{
    async Task<RpcConnection> ConnectAsync(string service)
    {
        var connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = uri, ConnectionName = "shop " + service });
        connections.Add(connection);
        return connection;
    }

    // Order ids carry this run's tag, so events an earlier, interrupted run left in the durable queues are told apart.
    var run = new OrderRun();

    await using var stockServer = await (await ConnectAsync("stock")).ServeAsync<IStock>(new Stock());
    await using var paymentServer = await (await ConnectAsync("payments")).ServeAsync<IPayments>(new Payments());

    // Logistics ships from the EU and US warehouses only: its bindings say so.
    var logistics = new OrderHandler("logistics", o => $"ships {o.OrderId} ({string.Join(", ", o.Lines.Select(l => $"{l.Quantity} x {l.Sku}"))}) to {o.Region}");
    var logisticsSubscription = new RpcSubscription { Queue = "shop.logistics", Bindings = { "order.placed.eu", "order.placed.us" } };
    await using var logisticsSubscriber = await (await ConnectAsync("logistics")).SubscribeAsync<IOrderEvents>(logistics, logisticsSubscription);

    // Notifications hears of every order; it subscribes once (its durable queue is declared) and goes down.
    var notifications = new OrderHandler("notifications", o => $"mails the receipt of {o.OrderId}: {o.Total:0.00} paid ({o.PaymentId})");
    var notificationsSubscription = new RpcSubscription { Queue = "shop.notifications", Bindings = { "order.#" } };
    var notificationsConnection = await ConnectAsync("notifications");
    await (await notificationsConnection.SubscribeAsync<IOrderEvents>(notifications, notificationsSubscription)).DisposeAsync();
    Console.WriteLine("Shop over RabbitMQ: stock and payments serve RPC; logistics subscribes to order.placed.eu and .us;");
    Console.WriteLine("notifications (order.#) is down for now. Placing orders:");

    var ordersConnection = await ConnectAsync("orders");
    var orders = new OrderService(ordersConnection.CreateClient<IStock>(), ordersConnection.CreateClient<IPayments>(),
        ordersConnection.CreatePublisher<IOrderEvents>());
    var placed = await run.PlaceAllAsync(orders, (order, region) => $"placed {order.OrderId} for {order.Total:0.00} ({region}); OrderPlaced published");

    var expectedLogistics = new[] { run.Id(1), run.Id(2) };
    var expectedNotifications = new[] { run.Id(1), run.Id(2), run.Id(5) };
    if (!await WaitAsync(() => run.Mine(logistics).Count >= expectedLogistics.Length)) return Fail($"logistics handled {run.Mine(logistics).Count} of {expectedLogistics.Length} events");

    uint waiting = await QueueDepthAsync(uri, "shop.notifications");
    Console.WriteLine($"notifications is still down: {waiting} OrderPlaced events are waiting in its durable queue 'shop.notifications'. Starting it:");
    await using var notificationsSubscriber = await notificationsConnection.SubscribeAsync<IOrderEvents>(notifications, notificationsSubscription);
    if (!await WaitAsync(() => run.Mine(notifications).Count >= expectedNotifications.Length)) return Fail($"notifications handled {run.Mine(notifications).Count} of {expectedNotifications.Length} events");
    await Task.Delay(200); // nothing more may come

    if (!placed.SequenceEqual(expectedNotifications)) return Fail($"placed {string.Join(", ", placed)}; expected {string.Join(", ", expectedNotifications)}");
    if (!run.Mine(logistics).Order().SequenceEqual(expectedLogistics)) return Fail($"logistics handled {string.Join(", ", run.Mine(logistics))}; expected {string.Join(", ", expectedLogistics)}");
    if (!run.Mine(notifications).Order().SequenceEqual(expectedNotifications)) return Fail($"notifications handled {string.Join(", ", run.Mine(notifications))}; expected {string.Join(", ", expectedNotifications)}");
    Console.WriteLine($"Done: {placed.Count} orders placed, 2 refused; logistics handled {run.Mine(logistics).Count} of {expectedLogistics.Length}, " +
        $"notifications {run.Mine(notifications).Count} of {expectedNotifications.Length}, the late one from its queue.");
    return 0;
}
catch (RpcConnectionException e)
{
    return Fail(e.Message);
}
finally
{
    foreach (var connection in connections) await connection.DisposeAsync();
}

static async Task<bool> WaitAsync(Func<bool> condition)
{
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
    while (!condition())
    {
        if (DateTime.UtcNow > deadline) return false;
        await Task.Delay(20);
    }

    return true;
}

// A look inside the broker for the demo's sake: how many messages a queue holds (a passive declare).
static async Task<uint> QueueDepthAsync(Uri uri, string queue)
{
    await using var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync();
    return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
}

static int Fail(string message)
{
    Console.Error.WriteLine("error: " + message);
    return 1;
}
