using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RpcGen.Diagnostics;
using RpcGen.Ecosystem.Tests.Infrastructure;
using RpcGen.Hosting;

namespace RpcGen.Ecosystem.Tests;

/// <summary>AddRpcGen in a generic host: a worker serving, a client calling through the injected interface.</summary>
public sealed class HostingTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Generic_host_serves_with_a_scope_per_call_and_a_worker_calls_through_the_injected_client()
    {
        var logs = new CapturedLogs();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Uri"] = TestBroker.Uri.ToString(),
            ["RpcGen:QueuePrefix"] = _broker.Prefix,
            ["RpcGen:ConnectionName"] = "hosting test",
        });
        builder.Services.AddSingleton<UnitOfWorkTracker>();
        builder.Services.AddScoped<UnitOfWork>();
        builder.Services.AddScoped<AuditTrail>();
        builder.Services.AddRpcGen()
            .AddRpcServer<IInventory, Inventory>()
            .AddRpcClient<IInventory>();
        var calls = new TaskCompletionSource<ReservationReport[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddSingleton(calls);
        builder.Services.AddHostedService<InventoryWorker>();
        _broker.Queue("inventory");

        using var host = builder.Build();
        await host.StartAsync();
        var reports = await calls.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var tracker = host.Services.GetRequiredService<UnitOfWorkTracker>();
        var client = host.Services.GetRequiredService<IInventory>();
        await host.StopAsync();

        Assert.Equal(new[] { ("apple", 1), ("pear", 2), ("plum", 3) }, reports.Select(r => (r.Sku, r.Quantity)));
        // One scope per call: the handler and its scoped dependency share one unit of work, each call has its own...
        Assert.All(reports, r => Assert.Equal(r.UnitOfWork, r.AuditUnitOfWork));
        Assert.Equal(3, reports.Select(r => r.UnitOfWork).Distinct().Count());
        Assert.All(reports, r => Assert.False(r.UnitOfWorkDisposedDuringCall));
        // ...and every scope is disposed once its call is answered.
        Assert.Equal(reports.Select(r => r.UnitOfWork).Order(), tracker.Created.Select(u => u.Id).Order());
        Assert.All(tracker.Created, u => Assert.True(u.Disposed));

        Assert.Equal("InventoryClient", client.GetType().Name);
        Assert.Contains(logs.WithEventId(RpcLogEvents.Connected), e => e.Level == LogLevel.Information && e.Message.Contains("hosting test"));
        Assert.Contains(logs.WithEventId(RpcLogEvents.ServerStarted), e => e.Message.Contains(_broker.Prefix + "inventory"));
        Assert.Contains(logs.WithEventId(RpcLogEvents.ServerStopped), e => e.Message.Contains("after 3 requests"));
    }

    private sealed class InventoryWorker(IInventory inventory, TaskCompletionSource<ReservationReport[]> calls) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                var reports = new List<ReservationReport>();
                foreach (var (sku, quantity) in new[] { ("apple", 1), ("pear", 2), ("plum", 3) })
                {
                    reports.Add(await inventory.ReserveAsync(sku, quantity));
                }

                calls.TrySetResult(reports.ToArray());
            }
            catch (Exception e)
            {
                calls.TrySetException(e);
            }
        }
    }

    [Fact]
    public async Task The_connection_is_named_after_the_hosts_application_unless_configured()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "orders-api" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Uri"] = TestBroker.Uri.ToString(),
            ["RpcGen:QueuePrefix"] = _broker.Prefix,
        });
        builder.Services.AddRpcGen();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // What the management UI lists: the connection's client-provided name.
            Assert.Equal("orders-api", host.Services.GetRequiredService<RpcConnection>().Connection.ClientProvidedName);
        }
        finally
        {
            await host.StopAsync();
        }

        var configured = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RpcGen:ConnectionName"] = "billing worker" }).Build());
        configured.AddSingleton<IHostEnvironment>(new FixedEnvironment("orders-api"));
        configured.AddRpcGen();
        using var provider = configured.BuildServiceProvider();
        Assert.Equal("billing worker", provider.GetRequiredService<IOptions<RpcConnectionOptions>>().Value.ConnectionName);
    }

    private sealed class FixedEnvironment(string applicationName) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = applicationName;
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }

    [Fact]
    public async Task Host_start_fails_with_the_broker_address_when_the_broker_cannot_be_reached()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["RpcGen:Uri"] = "amqp://guest:secret@127.0.0.1:1/" });
        builder.Services.AddRpcGen().AddRpcServer<IInventory, Inventory>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<RpcConnectionException>(() => host.StartAsync());
        Assert.Contains("127.0.0.1:1", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Options_come_from_the_RpcGen_section_then_from_code()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Uri"] = "amqp://app:pw@rabbit.example:5673/prod",
            ["RpcGen:Client:DefaultTimeout"] = "00:00:05",
            ["RpcGen:Server:Prefetch"] = "3",
            ["RpcGen:QueuePrefix"] = "staging.",
            ["RpcGen:Server:IncludeExceptionDetails"] = "true",
            ["RpcGen:Server:AllowedReplyQueuePrefixes:0"] = "billing.replies.",
            ["RpcGen:Server:AllowedReplyQueuePrefixes:1"] = "audit.replies.",
            ["RpcGen:Server:MaxStreamWindow"] = "512",
            ["RpcGen:Topology:QueueType"] = "Quorum",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddRpcGen(options => options.Server.Prefetch = 7);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RpcConnectionOptions>>().Value;

        Assert.Equal(new Uri("amqp://app:pw@rabbit.example:5673/prod"), options.Uri);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Client.DefaultTimeout);
        Assert.Equal(7, options.Server.Prefetch); // code runs after configuration
        Assert.Equal("staging.", options.QueuePrefix);
        Assert.True(options.Server.IncludeExceptionDetails);
        Assert.Equal(new[] { "billing.replies.", "audit.replies." }, options.Server.AllowedReplyQueuePrefixes);
        Assert.Equal(512, options.Server.MaxStreamWindow);
        Assert.Equal(RpcQueueType.Quorum, options.Topology.QueueType);
        Assert.Same(provider.GetRequiredService<ILoggerFactory>(), options.LoggerFactory);
    }

    [Theory]
    [InlineData("RpcGen:Url", "amqp://localhost/", "'RpcGen:Url' is not an RpcGen option")]
    [InlineData("RpcGen:Server:Prefetch", "lots", "'RpcGen:Server:Prefetch' is 'lots'; expected a whole number")]
    [InlineData("RpcGen:Client:DefaultTimeout", "5 seconds", "'RpcGen:Client:DefaultTimeout' is '5 seconds'; expected a time span")]
    [InlineData("RpcGen:Client:Prefetch", "3", "'RpcGen:Client:Prefetch' is not an RpcGen option. It is now 'RpcGen:Server:Prefetch'")]
    [InlineData("RpcGen:Prefetch", "3", "'RpcGen:Prefetch' is not an RpcGen option. It is now 'RpcGen:Server:Prefetch'")]
    [InlineData("RpcGen:Server", "3", "'RpcGen:Server' must be a section")]
    [InlineData("RpcGen:Uri", "http://user:hunter2@host/", "'RpcGen:Uri' is not an absolute amqp:// or amqps:// URI")]
    public void A_configuration_mistake_fails_naming_the_key(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddRpcGen();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<RpcConnectionOptions>>().Value);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void Every_option_of_a_simple_type_can_be_set_from_configuration()
    {
        // A new option must be added to RpcOptionsBinder, or configuration would reject its key.
        Assert.Equal(SimpleSettable<RpcConnectionOptions>(), RpcOptionsBinder.Connection.ValueKeys.Order().ToArray());
        Assert.Equal(SimpleSettable<RpcClientOptions>(), RpcOptionsBinder.Client.ValueKeys.Order().ToArray());
        Assert.Equal(SimpleSettable<RpcServerOptions>(), RpcOptionsBinder.Server.ValueKeys.Order().ToArray());
        Assert.Equal(SimpleSettable<RpcTopologyOptions>(), RpcOptionsBinder.Topology.ValueKeys.Order().ToArray());
    }

    private static string[] SimpleSettable<T>()
    {
        var simple = new[] { typeof(string), typeof(Uri), typeof(TimeSpan), typeof(bool), typeof(int), typeof(ushort), typeof(long), typeof(double) };
        return typeof(T).GetProperties()
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && (simple.Contains(p.PropertyType) || Nullable.GetUnderlyingType(p.PropertyType) is not null || p.PropertyType.IsEnum))
            .Select(p => p.Name)
            .Order()
            .ToArray();
    }

    [Fact]
    public void Serving_one_service_twice_is_refused()
    {
        var builder = new ServiceCollection().AddRpcGen().AddRpcServer<IInventory, Inventory>();
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddRpcServer<IInventory, Inventory>());
        Assert.Contains("IInventory is already served by Inventory", error.Message);
    }
}
