using RpcGen;
using RpcGen.Testing;
using Xunit;

namespace Samples.Shop.Tests;

/// <summary>
/// The shop's services over the in-memory broker: the order service calls stock and payments and publishes
/// OrderPlaced; logistics (order.placed.eu, order.placed.us) and notifications (order.#) subscribe.
/// </summary>
public sealed class ShopTests : IAsyncLifetime
{
    private RpcTestHarness _harness = null!;
    private readonly OrderHandler _logistics = new("logistics", o => o.OrderId);
    private readonly OrderHandler _notifications = new("notifications", o => o.OrderId);
    private readonly List<IAsyncDisposable> _running = new();
    private OrderService _orders = null!;

    public async Task InitializeAsync()
    {
        _harness = await RpcTestHarness.StartAsync();
        var connection = _harness.Connection;
        _running.Add(await connection.ServeAsync<IStock>(new Stock()));
        _running.Add(await connection.ServeAsync<IPayments>(new Payments()));
        _running.Add(await connection.SubscribeAsync<IOrderEvents>(_logistics, new RpcSubscription { Queue = "shop.logistics", Bindings = { "order.placed.eu", "order.placed.us" } }));
        _running.Add(await connection.SubscribeAsync<IOrderEvents>(_notifications, new RpcSubscription { Queue = "shop.notifications", Bindings = { "order.#" } }));
        _orders = new OrderService(connection.CreateClient<IStock>(), connection.CreateClient<IPayments>(), connection.CreatePublisher<IOrderEvents>());
    }

    public async Task DisposeAsync()
    {
        foreach (var running in _running) await running.DisposeAsync();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task A_placed_order_reaches_each_group_its_bindings_cover()
    {
        await _orders.PlaceAsync("o-eu", "eu", new OrderLine("book", 2, 12.50m));
        await _orders.PlaceAsync("o-asia", "asia", new OrderLine("lamp", 1, 40m));

        // Logistics ships EU and US only; notifications mails every receipt: three deliveries for two orders.
        await _harness.WaitForHandledAsync<IOrderEvents>(e => e.OrderPlacedAsync, count: 3);
        Assert.Equal(["o-eu"], _logistics.Handled);
        // Handled side by side (up to the prefetch): which orders, not in which order.
        Assert.Equal(["o-asia", "o-eu"], _notifications.Handled.Order());
        Assert.Equal(2, _harness.Find<IOrderEvents>(RpcTestEventKind.Sent).Count);
    }

    [Fact]
    public async Task A_declined_charge_gives_the_reserved_stock_back_and_publishes_nothing()
    {
        var refused = await Assert.ThrowsAsync<RpcRemoteException>(() => _orders.PlaceAsync("o-big", "us", new OrderLine("chair", 3, 120m)));
        Assert.Contains("card declined", refused.Message, StringComparison.Ordinal);

        // The release is one-way work: the order service does not wait for it, the test does.
        await _harness.WaitForHandledAsync<IStock>(s => s.ReleaseAsync);
        Assert.Single(_harness.Find<IPayments>(RpcTestEventKind.Faulted, p => p.ChargeAsync));
        Assert.Empty(_harness.Find<IOrderEvents>(RpcTestEventKind.Sent));
        // All four chairs are there again.
        Assert.True(await _harness.Connection.CreateClient<IStock>().ReserveAsync("chair", 4));
    }

    [Fact]
    public async Task Orders_placed_while_notifications_is_down_wait_in_its_queue_until_it_is_back()
    {
        await _running[3].DisposeAsync();
        _running.RemoveAt(3);

        await _orders.PlaceAsync("o-1", "us", new OrderLine("book", 1, 12.50m));
        await _harness.WaitForHandledAsync<IOrderEvents>(e => e.OrderPlacedAsync);
        Assert.Equal(1, _harness.MessageCount("shop.notifications"));

        var back = new OrderHandler("notifications", o => o.OrderId);
        _running.Add(await _harness.Connection.SubscribeAsync<IOrderEvents>(back, new RpcSubscription { Queue = "shop.notifications", Bindings = { "order.#" } }));
        await _harness.WaitForHandledAsync<IOrderEvents>(e => e.OrderPlacedAsync, count: 2);
        Assert.Equal(["o-1"], back.Handled);
    }
}
