using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Ecosystem.Tests.Infrastructure;
using RpcGen.Hosting;

namespace RpcGen.Ecosystem.Tests;

public sealed record Shipment(string Order, int Parcels);

[RpcEvents(Exchange = "eco-shipments", Type = RpcExchangeType.Topic)]
public interface IShipmentEvents
{
    Task ShipmentBookedAsync([RpcRoutingKey] string region, Shipment shipment);
}

/// <summary>What every handler instance saw, and which scope it ran in: a singleton the handlers share.</summary>
public sealed class ShipmentLog
{
    public ConcurrentQueue<(string Handler, string Region, string Order, Guid UnitOfWork)> Handled { get; } = new();

    public int Count(string handler) => Handled.Count(h => h.Handler == handler);
}

/// <summary>The logistics group's handler: scoped, with a scoped unit of work like a DbContext.</summary>
public sealed class LogisticsHandler(ShipmentLog log, UnitOfWork unitOfWork) : IShipmentEvents
{
    public Task ShipmentBookedAsync(string region, Shipment shipment)
    {
        log.Handled.Enqueue(("logistics", region, shipment.Order, unitOfWork.Id));
        return Task.CompletedTask;
    }
}

/// <summary>An exclusive subscription's handler: this process alone hears every event while it runs.</summary>
public sealed class DashboardHandler(ShipmentLog log) : IShipmentEvents
{
    public Task ShipmentBookedAsync(string region, Shipment shipment)
    {
        log.Handled.Enqueue(("dashboard", region, shipment.Order, Guid.Empty));
        return Task.CompletedTask;
    }
}

/// <summary>AddRpcSubscriber in a generic host: subscriptions start with the host, stop with it, and live on their connection.</summary>
public sealed class SubscriberHostingTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();

    public Task InitializeAsync()
    {
        _broker.Queue("logistics");
        _broker.Queue("logistics.dead-letter");
        _broker.Queue("eco-shipments.dead-letter");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.ExchangeDeleteAsync(_broker.Prefix + "eco-shipments");
    }

    private IHost BuildHost(string? connectionName, UnitOfWorkTracker tracker, ShipmentLog log)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "subscriber-test" });
        var section = connectionName is null ? "RpcGen" : "RpcGen:Connections:" + connectionName;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [section + ":Uri"] = TestBroker.Uri.ToString(),
            [section + ":QueuePrefix"] = _broker.Prefix,
        });
        builder.Services.AddSingleton(tracker);
        builder.Services.AddSingleton(log);
        builder.Services.AddScoped<UnitOfWork>();
        var rpc = connectionName is null ? builder.Services.AddRpcGen() : builder.Services.AddRpcGen(connectionName);
        rpc.AddRpcSubscriber<IShipmentEvents, LogisticsHandler>(subscription =>
            {
                subscription.Queue = "logistics";
                subscription.Bindings.Add("eu.#");
            })
            .AddRpcSubscriber<IShipmentEvents, DashboardHandler>();
        return builder.Build();
    }

    [Fact]
    public async Task Subscriptions_start_with_the_host_use_a_scope_per_event_and_stop_with_it_while_a_named_queue_keeps_the_work()
    {
        var tracker = new UnitOfWorkTracker();
        var log = new ShipmentLog();
        await using var publisherConnection = await RpcConnection.ConnectAsync(_broker.Options());
        var publisher = publisherConnection.CreatePublisher<IShipmentEvents>();

        using (var host = BuildHost(connectionName: null, tracker, log))
        {
            await host.StartAsync();
            // Started with the host: nothing was published before, and both subscriptions receive what comes now.
            for (int i = 0; i < 5; i++) await publisher.ShipmentBookedAsync("eu.north", new Shipment("o" + i, i));
            await publisher.ShipmentBookedAsync("us.east", new Shipment("o-us", 1));   // not bound for logistics
            await WaitUntilAsync(() => log.Count("logistics") == 5 && log.Count("dashboard") == 6, () => Describe(log));

            var servers = host.Services.GetRequiredService<RpcConnection>().Servers.ToList();
            var exclusiveQueue = Assert.Single(servers, s => s.Queue.StartsWith("amq.gen-", StringComparison.Ordinal)).Queue;
            Assert.Contains(servers, s => s.Queue == _broker.Prefix + "logistics");
            await host.StopAsync();

            // Stopped with the host: the exclusive queue is deleted with its subscription...
            Assert.False(await QueueExistsAsync(exclusiveQueue), $"{exclusiveQueue} outlived the host");
        }

        // One scope per event, each disposed once its event was handled.
        var logistics = log.Handled.Where(h => h.Handler == "logistics").ToList();
        Assert.Equal(5, logistics.Select(h => h.UnitOfWork).Distinct().Count());
        Assert.Equal(logistics.Select(h => h.UnitOfWork).Order(), tracker.Created.Select(u => u.Id).Order());
        Assert.All(tracker.Created, u => Assert.True(u.Disposed));
        Assert.Equal(new[] { "o0", "o1", "o2", "o3", "o4" }, logistics.Select(h => h.Order).Order());

        // ...while the named queue keeps the group's work until a member runs again, on a named connection this time.
        for (int i = 5; i < 8; i++) await publisher.ShipmentBookedAsync("eu.south", new Shipment("o" + i, i));
        Assert.Equal(3u, await QueueDepthAsync(_broker.Prefix + "logistics"));
        using (var host = BuildHost(connectionName: "shipping", tracker, log))
        {
            await host.StartAsync();
            await WaitUntilAsync(() => log.Count("logistics") == 8, () => Describe(log));
            var shipping = host.Services.GetRequiredKeyedService<RpcConnection>("shipping");
            Assert.Equal("subscriber-test (shipping)", shipping.Connection.ClientProvidedName);
            Assert.Contains(shipping.Servers, s => s.Queue == _broker.Prefix + "logistics");
            Assert.Null(host.Services.GetService<RpcConnection>());
            await host.StopAsync();
        }

        // The dashboard subscription was not running meanwhile: an exclusive queue keeps nothing for later.
        Assert.Equal(6, log.Count("dashboard"));
        Assert.Equal(0u, await QueueDepthAsync(_broker.Prefix + "logistics"));
    }

    [Fact]
    public void The_same_events_may_be_subscribed_with_two_queues_but_not_twice_with_one()
    {
        var services = new ServiceCollection();
        services.AddRpcGen()
            .AddRpcSubscriber<IShipmentEvents, LogisticsHandler>(s => s.Queue = "logistics")
            .AddRpcSubscriber<IShipmentEvents, DashboardHandler>(s => s.Queue = "dashboard")
            .AddRpcSubscriber<IShipmentEvents, DashboardHandler>();
        services.AddRpcGen("other").AddRpcSubscriber<IShipmentEvents, LogisticsHandler>(s => s.Queue = "logistics");

        var named = Assert.Throws<InvalidOperationException>(() =>
            services.AddRpcGen().AddRpcSubscriber<IShipmentEvents, DashboardHandler>(s => s.Queue = "logistics"));
        Assert.Contains("IShipmentEvents is already subscribed by LogisticsHandler with queue 'logistics' on the RpcGen connection", named.Message);
        var exclusive = Assert.Throws<InvalidOperationException>(() => services.AddRpcGen().AddRpcSubscriber<IShipmentEvents, LogisticsHandler>());
        Assert.Contains("with an exclusive queue", exclusive.Message);
    }

    [Fact]
    public async Task A_subscriber_of_a_service_interface_stops_the_host_from_starting_with_a_clear_error()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["RpcGen:Uri"] = TestBroker.Uri.ToString();
        builder.Configuration["RpcGen:QueuePrefix"] = _broker.Prefix;
        builder.Services.AddRpcGen().AddRpcSubscriber<IEcoCalculator, EcoCalculator>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("IEcoCalculator is an [RpcService] interface, not [RpcEvents]", error.Message);
    }

    private static string Describe(ShipmentLog log) => $"logistics {log.Count("logistics")}, dashboard {log.Count("dashboard")}";

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out; " + state());
            await Task.Delay(20);
        }
    }

    private static async Task<uint> QueueDepthAsync(string queue)
    {
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private static async Task<bool> QueueExistsAsync(string queue)
    {
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }
}
