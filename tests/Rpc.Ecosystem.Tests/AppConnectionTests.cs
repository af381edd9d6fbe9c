using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// RpcGen on a connection the app already has: the IConnection Aspire's RabbitMQ integration registers from
/// ConnectionStrings:NAME (the real Aspire.RabbitMQ.Client package, no app host), or one the app opened itself.
/// </summary>
public sealed class AppConnectionTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task RpcGen_runs_on_the_IConnection_Aspire_registers_and_leaves_it_open_when_it_is_disposed()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "aspire-app" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = TestBroker.Uri.ToString(),
            ["RpcGen:QueuePrefix"] = _broker.Prefix,
        });
        builder.AddRabbitMQClient("messaging");
        builder.Services.AddHealthChecks();
        builder.Services.AddRpcGen()
            .UseConnectionFromServices()
            .UseConnectionString("messaging")
            .AddRpcServer<IGreeter, Greeter>()
            .AddRpcClient<IGreeter>();
        _broker.Queue("greeter");
        using var host = builder.Build();
        await host.StartAsync();

        var client = host.Services.GetRequiredService<IGreeter>();
        Assert.Equal("hello aspire", await client.GreetAsync("aspire"));
        // The connection string named the user, so requests carry user_id and the broker vouched for it.
        Assert.Equal("guest", await client.CallerAsync());

        var aspireConnection = host.Services.GetRequiredService<IConnection>();
        var rpc = host.Services.GetRequiredService<RpcConnection>();
        Assert.Same(aspireConnection, rpc.Connection);
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["rpcgen"].Status);

        // RpcGen owns its channels, not the connection: disposing it leaves Aspire's connection open and usable.
        await host.StopAsync();
        await rpc.DisposeAsync();
        Assert.True(aspireConnection.IsOpen);
        await using (var channel = await aspireConnection.CreateChannelAsync())
        {
            await channel.QueueDeclarePassiveAsync(_broker.Prefix + "greeter");
        }
    }

    [Fact]
    public async Task On_an_app_connection_without_a_Uri_no_user_id_is_sent_and_the_Uri_is_the_connections_endpoint()
    {
        await using var appConnection = await new ConnectionFactory { Uri = TestBroker.Uri, ClientProvidedName = "the app's own" }.CreateConnectionAsync();
        var options = new RpcConnectionOptions { QueuePrefix = _broker.Prefix };
        _broker.Queue("greeter");

        await using (var rpc = await RpcConnection.CreateAsync(appConnection, options))
        {
            await using var server = await rpc.ServeAsync<IGreeter>(new Greeter());
            var client = rpc.CreateClient<IGreeter>();

            Assert.Equal("hello app", await client.GreetAsync("app"));
            Assert.Equal("(no user_id)", await client.CallerAsync());
            Assert.Equal(TestBroker.Uri.Host, rpc.Settings.Uri.Host);
            Assert.Equal(TestBroker.Uri.Port, rpc.Settings.Uri.Port);
            Assert.Equal("", rpc.Settings.Uri.UserInfo);
        }

        Assert.True(appConnection.IsOpen);
    }

    [Fact]
    public async Task A_closed_app_connection_is_refused_with_a_clear_error()
    {
        await using var appConnection = await new ConnectionFactory { Uri = TestBroker.Uri, ClientProvidedName = "closed one" }.CreateConnectionAsync();
        await appConnection.CloseAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RpcConnection.CreateAsync(appConnection));
        Assert.Contains("'closed one' is closed", error.Message);
    }

    [Fact]
    public async Task UseConnectionString_reads_the_broker_address_from_ConnectionStrings_and_wins_over_the_section()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbit"] = TestBroker.Uri.ToString(),
            ["RpcGen:Uri"] = "amqp://guest:guest@127.0.0.1:1/",
            ["RpcGen:QueuePrefix"] = _broker.Prefix,
        });
        builder.Services.AddRpcGen().UseConnectionString("rabbit").AddRpcServer<IGreeter, Greeter>().AddRpcClient<IGreeter>();
        _broker.Queue("greeter");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            Assert.Equal("hello connection string", await host.Services.GetRequiredService<IGreeter>().GreetAsync("connection string"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_missing_connection_string_stops_the_host_naming_it()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddRpcGen().UseConnectionString("nowhere");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("ConnectionStrings:nowhere", error.Message);
    }
}
