using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.TestServer;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>The broker dies with calls in flight and comes back: nothing hangs, and both sides recover on their own.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class BrokerRestartTests
{
    private readonly FaultBroker _broker;
    private readonly ITestOutputHelper _output;

    public BrokerRestartTests(FaultBroker broker, ITestOutputHelper output)
    {
        _broker = broker;
        _output = output;
    }

    [Theory]
    [InlineData("kill")]
    [InlineData("stop")]
    public async Task Calls_in_flight_fail_fast_and_client_and_server_recover_after_the_broker_returns(string fault)
    {
        await _broker.StartAsync(); // a no-op when it runs; a previous failure must not leave this test without a broker
        try
        {
            await RunScenarioAsync(fault);
        }
        finally
        {
            await _broker.StartAsync();
        }
    }

    private async Task RunScenarioAsync(string fault)
    {
        var options = new Func<RpcConnectionOptions>(() => new RpcConnectionOptions { Uri = _broker.Uri, QueuePrefix = "restart-" + fault + ".", Client = { DefaultTimeout = TimeSpan.FromSeconds(10) } });
        await using var serverConnection = await RpcConnection.ConnectAsync(options());
        await using var server = await serverConnection.ServeAsync<IWorkService>(new WorkService("server"));
        await using var clientConnection = await RpcConnection.ConnectAsync(options());
        var work = clientConnection.CreateClient<IWorkService>();
        Assert.Equal(1, (await work.DoAsync(1, 0)).Id);

        // 20 calls the server holds for 5 s: they are in flight when the broker goes.
        var inFlight = Enumerable.Range(0, 20).Select(i => work.DoAsync(i, 5000)).ToArray();
        await Task.Delay(300);
        // kill -9 is instant, so the clock starts before it. A graceful stop takes the CLI a while to boot and the node
        // a while to shut down, closing connections on its way: the clock starts when the node is down.
        var sinceFault = Stopwatch.StartNew();
        if (fault == "kill") await _broker.KillAsync();
        else
        {
            await _broker.StopAsync();
            sinceFault.Restart();
        }

        var failures = new List<Exception>();
        foreach (var call in inFlight)
        {
            var e = await Record.ExceptionAsync(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            failures.Add(e!);
        }

        var allFailedAfter = sinceFault.Elapsed;
        _output.WriteLine($"{fault}: 20 calls in flight failed after {allFailedAfter.TotalMilliseconds:0} ms: {failures[0]?.GetType().Name}: {failures[0]?.Message}");
        Assert.All(failures, e => Assert.IsType<RpcConnectionException>(e));
        Assert.All(failures, e => Assert.Contains("connection to RabbitMQ was lost", e.Message));
        Assert.True(allFailedAfter < TimeSpan.FromSeconds(2), $"calls in flight failed only after {allFailedAfter}");

        // While the broker is down a new call fails fast, the same way.
        var whileDown = Stopwatch.StartNew();
        var down = await Record.ExceptionAsync(() => work.DoAsync(99, 0).WaitAsync(TimeSpan.FromSeconds(10)));
        _output.WriteLine($"{fault}: a call while the broker is down failed after {whileDown.ElapsedMilliseconds} ms: {down?.GetType().Name}: {down?.Message}");
        Assert.IsType<RpcConnectionException>(down);
        Assert.True(whileDown.Elapsed < TimeSpan.FromSeconds(1), $"a call while down failed only after {whileDown.Elapsed}");

        await _broker.StartAsync();
        var sinceBack = Stopwatch.StartNew();
        WorkResult? result = null;
        int attempts = 0;
        // Each attempt ends by itself (a reply, a failure, or the call's own 10 s timeout), so none is left pending
        // for the count below, as one abandoned by a shorter wait was when the node took 5 s to come back.
        while (result is null && sinceBack.Elapsed < TimeSpan.FromSeconds(20))
        {
            attempts++;
            try
            {
                result = await work.DoAsync(100, 0);
            }
            catch (Exception e) when (e is RpcException or TimeoutException)
            {
                await Task.Delay(100);
            }
        }

        _output.WriteLine($"{fault}: first successful call {sinceBack.ElapsedMilliseconds} ms after the broker was back ({attempts} attempts)");
        Assert.NotNull(result);
        Assert.Equal(100, result!.Id);

        // Recovered for good: a burst of calls all succeed, and nothing is left pending.
        var burst = await Task.WhenAll(Enumerable.Range(200, 100).Select(i => work.DoAsync(i, 0)));
        Assert.Equal(Enumerable.Range(200, 100), burst.Select(r => r.Id));
        Assert.Equal(0, clientConnection.PendingCallCount);
    }
}
