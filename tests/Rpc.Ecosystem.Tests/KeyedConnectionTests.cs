using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RpcGen.Ecosystem.Tests.Infrastructure;
using RpcGen.Hosting;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// Two named RpcGen connections in one host, each to its own vhost of the private node, each with its own options
/// section, clients and servers: a client resolved by key reaches the servers of its own vhost only.
/// </summary>
[Collection(PrivateBrokerCollection.Name)]
public sealed class KeyedConnectionTests(PrivateBroker broker) : IAsyncLifetime
{
    private readonly string _orders = "eco-orders-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _billing = "eco-billing-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        foreach (var vhost in new[] { _orders, _billing })
        {
            await broker.CtlAsync("add_vhost", vhost);
            await broker.CtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var vhost in new[] { _orders, _billing }) await broker.CtlAsync("delete_vhost", vhost);
    }

    private Uri VhostUri(string vhost) => new($"amqp://guest:guest@localhost:{PrivateBroker.Port}/{vhost}");

    [Fact]
    public async Task Two_keyed_connections_to_two_vhosts_each_serve_and_call_their_own_services()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "shop" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Connections:orders:Uri"] = VhostUri(_orders).ToString(),
            ["RpcGen:Connections:orders:Server:Prefetch"] = "8",
            ["RpcGen:Connections:billing:Uri"] = VhostUri(_billing).ToString(),
            ["RpcGen:Connections:billing:Client:DefaultTimeout"] = "00:00:07",
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddRpcGen("orders")
            .AddRpcServer<IEcoCalculator, EcoCalculator>()
            .AddRpcClient<IEcoCalculator>();
        builder.Services.AddRpcGen("billing")
            .AddRpcServer<IGreeter, Greeter>()
            .AddRpcClient<IGreeter>()
            .AddRpcClient<IEcoCalculator>();   // bound to billing's vhost, where nobody serves it
        builder.Services.AddSingleton<Checkout>();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // [FromKeyedServices] picks each client's connection.
            var checkout = host.Services.GetRequiredService<Checkout>();
            Assert.Equal(5, await checkout.Calculator.AddAsync(2, 3));
            Assert.Equal("hello shop", await checkout.Greeter.GreetAsync("shop"));

            // Each named connection has its own options section...
            var orders = host.Services.GetRequiredKeyedService<RpcConnection>("orders");
            var billing = host.Services.GetRequiredKeyedService<RpcConnection>("billing");
            Assert.NotSame(orders, billing);
            Assert.Equal(8, orders.Settings.Prefetch);
            Assert.Equal(TimeSpan.FromSeconds(7), billing.Settings.DefaultTimeout);
            Assert.Equal("shop (orders)", orders.Connection.ClientProvidedName);
            Assert.Equal("shop (billing)", billing.Connection.ClientProvidedName);
            // ...and no default connection is registered when only named ones are added.
            Assert.Null(host.Services.GetService<RpcConnection>());

            // Each vhost holds only its own service queue: billing's calculator client finds no server there.
            var billingCalculator = host.Services.GetRequiredKeyedService<IEcoCalculator>("billing");
            await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => billingCalculator.AddAsync(1, 1));
            Assert.Contains("calc", await broker.CtlAsync("list_queues", "-p", _orders, "--quiet", "name"));
            Assert.DoesNotContain("greeter", await broker.CtlAsync("list_queues", "-p", _orders, "--quiet", "name"));
            Assert.Contains("greeter", await broker.CtlAsync("list_queues", "-p", _billing, "--quiet", "name"));

            var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, report.Entries["rpcgen-orders"].Status);
            Assert.Equal(HealthStatus.Healthy, report.Entries["rpcgen-billing"].Status);
            Assert.DoesNotContain(RpcHealthCheckOptions.DefaultName, report.Entries.Keys);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void The_same_service_may_be_served_on_two_connections_but_not_twice_on_one()
    {
        var services = new ServiceCollection();
        services.AddRpcGen("orders").AddRpcServer<IGreeter, Greeter>();
        services.AddRpcGen("billing").AddRpcServer<IGreeter, Greeter>();

        var error = Assert.Throws<InvalidOperationException>(() => services.AddRpcGen("orders").AddRpcServer<IGreeter, Greeter>());
        Assert.Contains("the RpcGen connection 'orders'", error.Message);
    }

    private sealed class Checkout([FromKeyedServices("orders")] IEcoCalculator calculator, [FromKeyedServices("billing")] IGreeter greeter)
    {
        public IEcoCalculator Calculator { get; } = calculator;
        public IGreeter Greeter { get; } = greeter;
    }
}
