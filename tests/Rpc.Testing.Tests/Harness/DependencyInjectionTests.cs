using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>An app's AddRpcGen registrations, run on the harness's broker instead of RabbitMQ.</summary>
public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task The_containers_servers_and_clients_run_on_the_harness_and_are_recorded()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.UseFakeTime = true);
        var services = new ServiceCollection();
        services.AddRpcGen(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(3))
            .UseRpcTestHarness(harness)
            .AddRpcServer<ICalc, Calc>()
            .AddRpcClient<ICalc>();
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToArray();
        foreach (var service in hosted) await service.StartAsync(CancellationToken.None);
        try
        {
            var calc = provider.GetRequiredService<ICalc>();
            Assert.Equal(7, await calc.AddAsync(3, 4));
            Assert.Equal("guest redelivered=False", await calc.WhoAmIAsync());
            Assert.Single(harness.Find<ICalc>(RpcTestEventKind.Handled, c => c.AddAsync));

            // The app's own timeout, on the harness's clock.
            var waiting = calc.WaitAsync(CancellationToken.None);
            await harness.WaitForAsync<ICalc>(RpcTestEventKind.Delivered, c => c.WaitAsync);
            harness.AdvanceTime(TimeSpan.FromSeconds(4));
            await Assert.ThrowsAsync<RpcTimeoutException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            foreach (var service in hosted.Reverse()) await service.StopAsync(CancellationToken.None);
        }
    }
}
