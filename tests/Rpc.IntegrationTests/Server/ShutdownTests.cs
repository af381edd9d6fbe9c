using RabbitMQ.Client;
using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>Stopping: the drain timeout, a host's stop token, servers draining side by side, a second dispose.</summary>
public sealed class ShutdownTests
{
    private readonly ITestOutputHelper _output;

    public ShutdownTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task When_the_drain_timeout_expires_the_handlers_token_fires_and_its_answer_still_goes_out()
    {
        await using var broker = new TestBroker();
        var service = new FaultService();
        var serving = await broker.ConnectAsync(o => o.Server.DrainTimeout = TimeSpan.FromMilliseconds(500));
        var server = await broker.ServeAsync<IFaultService>(serving, service);
        var client = (await broker.ConnectAsync()).CreateClient<IFaultService>(); // 30 s timeout: the deadline is not what stops it
        var call = client.WaitForCancellationAsync();
        await Wait.UntilAsync(() => server.InFlight == 1, "the call is running");

        var watch = Stopwatch.StartNew();
        await server.DisposeAsync();
        _output.WriteLine($"dispose took {watch.ElapsedMilliseconds} ms with DrainTimeout 500 ms");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(400), $"dispose returned after {watch.Elapsed}, before the drain timeout");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"dispose took {watch.Elapsed}");
        Assert.Equal("cancelled", await call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(Assert.Single(service.Waits).Cancelled);
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    [Fact]
    public async Task Stopping_with_the_hosts_token_cuts_the_drain_short()
    {
        await using var broker = new TestBroker();
        var service = new FaultService();
        var serving = await broker.ConnectAsync(o => o.Server.DrainTimeout = TimeSpan.FromSeconds(30));
        var server = await broker.ServeAsync<IFaultService>(serving, service);
        var client = (await broker.ConnectAsync()).CreateClient<IFaultService>();
        var call = client.WaitForCancellationAsync();
        await Wait.UntilAsync(() => server.InFlight == 1, "the call is running");

        // What RpcGenHostedService.StopAsync passes on: the host's token, cancelled when its shutdown timeout ends.
        using var hostStopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var watch = Stopwatch.StartNew();
        await server.StopAsync(hostStopping.Token);
        _output.WriteLine($"stop took {watch.ElapsedMilliseconds} ms with DrainTimeout 30 s and the host's token at 500 ms");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {watch.Elapsed}: the host's token was not honoured");
        Assert.Equal("cancelled", await call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_connection_drains_its_servers_side_by_side_and_a_second_dispose_waits_for_the_first()
    {
        await using var broker = new TestBroker();
        // Two servers, each with a call that runs until its token fires at the 3 s drain timeout: drained one after
        // the other the dispose would take 6 s or more, side by side about 3 s.
        var serving = await RpcConnection.ConnectAsync(broker.Options(o => o.Server.DrainTimeout = TimeSpan.FromSeconds(3)));
        var faultServer = await serving.ServeAsync<IFaultService>(new FaultService());
        var settleServer = await serving.ServeAsync<ISettleService>(new SettleService());
        var calling = await broker.ConnectAsync();
        var held = calling.CreateClient<IFaultService>().WaitForCancellationAsync();
        var alsoHeld = calling.CreateClient<ISettleService>().WaitAsync();
        await Wait.UntilAsync(() => faultServer.InFlight == 1 && settleServer.InFlight == 1, "both servers run a call");

        var watch = Stopwatch.StartNew();
        var disposing = serving.DisposeAsync().AsTask();
        var again = serving.DisposeAsync().AsTask();
        await Task.Delay(200);
        Assert.False(again.IsCompleted, "the second DisposeAsync returned while the first was still draining");
        await again.WaitAsync(TimeSpan.FromSeconds(30));
        var took = watch.Elapsed;
        Assert.True(disposing.IsCompleted);
        _output.WriteLine($"connection dispose with two servers draining took {took.TotalMilliseconds:0} ms (DrainTimeout 3 s each)");
        Assert.True(took < TimeSpan.FromSeconds(5.5), $"dispose took {took}: the servers drained one after the other");
        Assert.Equal("cancelled", await held.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await alsoHeld.WaitAsync(TimeSpan.FromSeconds(10)));
        await faultServer.DisposeAsync(); // already stopped with the connection: returns at once
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(faultServer.Queue));
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(settleServer.Queue));
        await using var raw = await RawAmqp.ConnectAsync();
        await raw.Channel.QueueDeleteAsync(faultServer.Queue);
        await raw.Channel.QueueDeleteAsync(settleServer.Queue);
    }
}
