using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// Per-service server options under a host (AddRpcServer(configure) and RpcGen:Servers:{Name}), and registering
/// publishers of [RpcEvents] interfaces (AddRpcPublisher) apart from clients of [RpcService] ones.
/// </summary>
public sealed class ServerOptionsHostingTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();

    public Task InitializeAsync()
    {
        _broker.Queue("calc");
        _broker.Queue("inventory");
        _broker.Queue("published");
        _broker.Queue("published.dead-letter");
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

    private HostApplicationBuilder Builder(Dictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "server-options-test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Uri"] = TestBroker.Uri.ToString(),
            ["RpcGen:QueuePrefix"] = _broker.Prefix,
        });
        if (configuration is not null) builder.Configuration.AddInMemoryCollection(configuration);
        return builder;
    }

    [Fact]
    public async Task A_servers_own_options_start_from_the_connections_then_its_configuration_section_then_its_code()
    {
        RpcServerOptions? calculator = null, inventory = null;
        var builder = Builder(new() { ["RpcGen:Server:RetryLimit"] = "7", ["RpcGen:Servers:EcoCalculator:Prefetch"] = "3" });
        builder.Services.AddRpcGen(options => options.Server.DrainTimeout = TimeSpan.FromSeconds(5))
            .AddRpcServer<IEcoCalculator, EcoCalculator>(options =>
            {
                calculator = options;
                options.IncludeExceptionDetails = true;
            })
            .AddRpcServer<IInventory, Inventory>(options => inventory = options);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            Assert.NotNull(calculator);
            Assert.NotNull(inventory);
            Assert.NotSame(calculator, inventory);
            Assert.Equal(7, calculator.RetryLimit);                          // RpcGen:Server
            Assert.Equal(TimeSpan.FromSeconds(5), calculator.DrainTimeout);   // AddRpcGen(configure)
            Assert.Equal(3, calculator.Prefetch);                             // RpcGen:Servers:EcoCalculator
            Assert.Equal(64, inventory.Prefetch);                             // its own section is absent
            Assert.False(inventory.IncludeExceptionDetails);                  // the other server's code is its own
            Assert.False(host.Services.GetRequiredService<RpcConnection>().Settings.IncludeExceptionDetails);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData("RpcGen:Servers:EcoCalculator:Prefetch", "0", "RpcServerOptions.Prefetch must be at least 1 (service EcoCalculator)")]
    [InlineData("RpcGen:Servers:EcoCalculator:Prefech", "3", "'RpcGen:Servers:EcoCalculator:Prefech' is not an RpcGen option")]
    [InlineData("RpcGen:Servers:EcoCalculator:DefaultTimeout", "00:00:05", "It is now 'RpcGen:Client:DefaultTimeout'")]
    public async Task A_mistake_in_a_servers_section_stops_the_host_naming_the_key_or_the_service(string key, string value, string expected)
    {
        var builder = Builder(new() { [key] = value });
        builder.Services.AddRpcGen().AddRpcServer<IEcoCalculator, EcoCalculator>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains(expected, error.Message);
        await host.StopAsync();
    }

    [Fact]
    public void AddRpcClient_of_an_events_interface_fails_at_registration_pointing_at_AddRpcPublisher()
    {
        var rpc = new ServiceCollection().AddRpcGen();

        var error = Assert.Throws<InvalidOperationException>(() => rpc.AddRpcClient<IShipmentEvents>());
        Assert.Contains("AddRpcPublisher<IShipmentEvents>()", error.Message);
        var reverse = Assert.Throws<InvalidOperationException>(() => rpc.AddRpcPublisher<IEcoCalculator>());
        Assert.Contains("AddRpcClient<IEcoCalculator>()", reverse.Message);
    }

    [Fact]
    public async Task AddRpcPublisher_registers_the_generated_publisher_on_its_connection()
    {
        var log = new ShipmentLog();
        await using var subscribing = await RpcConnection.ConnectAsync(_broker.Options());
        await using var subscriber = await subscribing.SubscribeAsync<IShipmentEvents>(new DashboardHandler(log), new RpcSubscription { Queue = "published" });

        var builder = Builder();
        builder.Services.AddRpcGen().AddRpcPublisher<IShipmentEvents>();
        builder.Services.AddRpcGen("billing", options =>
        {
            options.Uri = TestBroker.Uri;
            options.QueuePrefix = _broker.Prefix;
        }).AddRpcPublisher<IShipmentEvents>();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            await host.Services.GetRequiredService<IShipmentEvents>().ShipmentBookedAsync("eu", new Shipment("default", 1));
            await host.Services.GetRequiredKeyedService<IShipmentEvents>("billing").ShipmentBookedAsync("eu", new Shipment("billing", 1));
            for (var i = 0; i < 100 && log.Count("dashboard") < 2; i++) await Task.Delay(50);
            Assert.Equal(new[] { "billing", "default" }, log.Handled.Select(h => h.Order).Order());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
