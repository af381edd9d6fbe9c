using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using RpcGen.Ecosystem.Tests.Infrastructure;
using RpcGen.Hosting;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// The <c>rpcgen</c> health check against a private node that the test blocks (memory alarm), kills and restarts:
/// the host's HealthCheckService reports each state as the app's connection goes through it.
/// </summary>
[Collection(PrivateBrokerCollection.Name)]
public sealed class HealthCheckTests(PrivateBroker broker)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_rpcgen_check_goes_healthy_then_degraded_while_the_broker_blocks_publishers_and_healthy_again()
    {
        await broker.StartAsync();
        var prefix = "health-" + Guid.NewGuid().ToString("N")[..8] + ".";
        using var host = BuildHost(prefix);
        var check = new CheckWatcher(host);

        // Registered by AddRpcGen, with the tags a readiness probe selects; before the host starts there is no connection.
        var before = await check.CheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("Not connected", before.Description);
        Assert.Equal(new[] { "ready", "rpcgen" }, before.Tags.Order());

        await host.StartAsync();
        try
        {
            var healthy = await check.CheckAsync();
            Assert.True(healthy.Status == HealthStatus.Healthy, healthy.Description);
            Assert.Equal(new[] { prefix + "calc" }, (string[])healthy.Data["serving"]);
            var client = host.Services.GetRequiredService<IEcoCalculator>();
            Assert.Equal(5, await client.AddAsync(2, 3));

            // A memory alarm: the broker blocks the connection at its next publish, and says so (connection.blocked).
            await broker.CtlAsync("set_vm_memory_high_watermark", "0");
            try
            {
                var blockedCall = client.AddAsync(1, 1);
                var blocked = await check.WaitForAsync(HealthStatus.Degraded, TimeSpan.FromSeconds(30));
                Assert.Contains("blocks this connection's publishers", blocked.Description);
                // The call gets no reply while the broker holds the connection (the server's replies are held too): it
                // times out, or fails at once where the runtime fails calls on a block.
                var failure = await Record.ExceptionAsync(() => blockedCall);
                Assert.True(failure is RpcException, $"Expected the blocked call to fail; got {failure?.GetType().Name ?? "a result"}.");
            }
            finally
            {
                // The node is up here (nothing in this test stops it), so putting the watermark back cannot fail in
                // place of the assertion that brought us here.
                await broker.CtlAsync("set_vm_memory_high_watermark", "0.4");
            }

            await check.WaitForAsync(HealthStatus.Healthy, TimeSpan.FromSeconds(30));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task The_rpcgen_check_goes_degraded_when_the_broker_is_killed_unhealthy_past_the_grace_period_and_healthy_when_back()
    {
        await broker.StartAsync();
        var prefix = "health-" + Guid.NewGuid().ToString("N")[..8] + ".";
        using var host = BuildHost(prefix);
        var check = new CheckWatcher(host);
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IEcoCalculator>();
            Assert.Equal(5, await client.AddAsync(2, 3));
            await check.WaitForAsync(HealthStatus.Healthy, TimeSpan.FromSeconds(10));

            // A crash: Degraded while recovery reconnects within the grace period, Unhealthy after it, Healthy once back.
            check.Seen.Clear();
            await broker.KillAsync();
            var recovering = await check.WaitForAsync(HealthStatus.Degraded, TimeSpan.FromSeconds(10));
            Assert.Contains("reconnecting", recovering.Description);
            var lost = await check.WaitForAsync(HealthStatus.Unhealthy, Grace * 4);
            Assert.Contains("grace period", lost.Description);
            await broker.StartAsync();
            var back = await check.WaitForAsync(HealthStatus.Healthy, TimeSpan.FromSeconds(90));
            Assert.Equal(new[] { prefix + "calc" }, (string[])back.Data["serving"]);
            Assert.Equal(new[] { HealthStatus.Degraded, HealthStatus.Unhealthy, HealthStatus.Healthy }, check.Seen.Select(s => s.Status));

            // Healthy means serving: the recovered consumer answers.
            Assert.Equal(7, await client.AddAsync(3, 4));
        }
        finally
        {
            // No rabbitmqctl here: the node may be the one this test killed, and a failing cleanup would replace the
            // assertion that failed. Started again (a no-op when it runs) for the tests after this one.
            await broker.StartAsync();
            await host.StopAsync();
        }
    }

    private IHost BuildHost(string prefix)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RpcGen:Uri"] = broker.Uri.ToString(),
            ["RpcGen:QueuePrefix"] = prefix,
            ["RpcGen:Client:DefaultTimeout"] = "00:00:03",
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddRpcGen()
            .ConfigureHealthCheck(check => check.RecoveryGracePeriod = Grace)
            .AddRpcServer<IEcoCalculator, EcoCalculator>()
            .AddRpcClient<IEcoCalculator>();
        return builder.Build();
    }

    /// <summary>Runs the host's rpcgen check and remembers each change of status, to say what it went through when a wait fails.</summary>
    private sealed class CheckWatcher(IHost host)
    {
        private readonly HealthCheckService _health = host.Services.GetRequiredService<HealthCheckService>();

        public List<(HealthStatus Status, string? Description)> Seen { get; } = new();

        public async Task<HealthReportEntry> CheckAsync()
        {
            var report = await _health.CheckHealthAsync(registration => registration.Name == RpcHealthCheckOptions.DefaultName);
            var entry = Assert.Single(report.Entries).Value;
            if (Seen.Count == 0 || Seen[^1].Status != entry.Status) Seen.Add((entry.Status, entry.Description));
            return entry;
        }

        public async Task<HealthReportEntry> WaitForAsync(HealthStatus status, TimeSpan limit)
        {
            var deadline = DateTime.UtcNow + limit;
            while (true)
            {
                var entry = await CheckAsync();
                if (entry.Status == status) return entry;
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The check did not report {status} within {limit}; it went through " +
                        string.Join(" -> ", Seen.Select(s => $"{s.Status} ({s.Description})")));
                }

                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task A_server_whose_queue_is_deleted_declares_it_again_consumes_it_and_the_check_says_what_happened()
    {
        var prefix = "health-" + Guid.NewGuid().ToString("N")[..8] + ".";
        var services = new ServiceCollection().AddLogging();
        services.AddHealthChecks();
        services.AddRpcGen(options =>
            {
                options.Uri = broker.Uri;
                options.QueuePrefix = prefix;
                options.Client.DefaultTimeout = TimeSpan.FromSeconds(3);
            })
            .ConfigureHealthCheck(check => check.Tags.Add(RpcHealthCheckOptions.LiveTag))
            .AddRpcServer<IEcoCalculator, EcoCalculator>()
            .AddRpcClient<IEcoCalculator>();
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().OfType<RpcGenHostedService>().Single();
        await hosted.StartAsync(CancellationToken.None);
        try
        {
            var health = provider.GetRequiredService<HealthCheckService>();
            var healthy = (await health.CheckHealthAsync()).Entries["rpcgen"];
            Assert.Equal(HealthStatus.Healthy, healthy.Status);
            Assert.Contains("live", healthy.Tags);
            Assert.False(healthy.Data.ContainsKey("queuesDeletedUnderServer"));

            // The broker cancels the consumer of a deleted queue (basic.cancel); the server declares it again and consumes.
            await using (var amqp = await new ConnectionFactory { Uri = broker.Uri }.CreateConnectionAsync())
            await using (var channel = await amqp.CreateChannelAsync())
            {
                await channel.QueueDeleteAsync(prefix + "calc");
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            HealthReportEntry entry;
            do
            {
                await Task.Delay(50);
                entry = (await health.CheckHealthAsync()).Entries["rpcgen"];
            }
            while (!(entry.Status == HealthStatus.Healthy && entry.Data.ContainsKey("queuesDeletedUnderServer")) && DateTime.UtcNow < deadline);

            Assert.True(entry.Status == HealthStatus.Healthy, entry.Description);
            var deleted = Assert.Single((string[])entry.Data["queuesDeletedUnderServer"]);
            Assert.StartsWith(prefix + "calc at ", deleted);
            Assert.Contains("deleted under a running server", entry.Description);
            Assert.Equal(new[] { prefix + "calc" }, (string[])entry.Data["serving"]);
            Assert.Equal(9, await provider.GetRequiredService<IEcoCalculator>().AddAsync(4, 5));
        }
        finally
        {
            await hosted.StopAsync(CancellationToken.None);
        }
    }
}
