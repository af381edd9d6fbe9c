using Microsoft.Extensions.Logging;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Semantics;

[RpcService(Queue = "stoppable")]
public interface IStoppable
{
    /// <summary>Waits on its token (30 s at most); with <paramref name="hops"/> above 0 calls the next hop first.</summary>
    Task<int> WaitAsync(int hops, CancellationToken cancellationToken = default);
}

public sealed class Stoppable : IStoppable
{
    public IStoppable? Next { get; set; }

    public async Task<int> WaitAsync(int hops, CancellationToken cancellationToken = default)
    {
        if (hops > 0) return await Next!.WaitAsync(hops - 1, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
        return 0;
    }
}

/// <summary>
/// A handler the runtime stops (its caller cancelled, its caller's deadline passed) has not failed: no Error entry and
/// no stack trace on any hop, only an Information entry (3041) saying why. Error stays for what an operator must act on.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class HandlerStopLogTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_call_its_caller_cancels_logs_no_error_on_the_server_only_why_it_stopped()
    {
        await using var broker = new TestBroker();
        var logs = new CapturingLoggerFactory();
        var rpc = await broker.ConnectAsync(o => o.LoggerFactory = logs);
        var server = await broker.ServeAsync<IStoppable>(rpc, new Stoppable());
        var client = rpc.CreateClient<IStoppable>();

        using var cancel = new CancellationTokenSource();
        var call = client.WaitAsync(0, cancel.Token);
        await Wait.UntilAsync(() => server.InFlight == 1, "the call reached the handler");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Wait.UntilAsync(() => server.InFlight == 0, "the handler stopped");

        Report(logs);
        Assert.DoesNotContain(logs.Events, e => e.Level >= LogLevel.Error);
        var stopped = Assert.Single(logs.Events, e => e.EventId == RpcLogEvents.HandlerStopped);
        Assert.Equal(LogLevel.Information, stopped.Level);
        Assert.Null(stopped.Exception);
        Assert.Contains("caller cancelled", stopped.Message);
    }

    [Fact]
    public async Task A_chain_of_calls_past_its_callers_deadline_logs_no_error_on_any_hop()
    {
        await using var broker = new TestBroker();
        var logs = new CapturingLoggerFactory();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.LoggerFactory = logs;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(1);
        });
        var hop = new Stoppable();
        var server = await broker.ServeAsync<IStoppable>(rpc, hop);
        hop.Next = rpc.CreateClient<IStoppable>();

        // Three hops on one service: the first two each call the next with the propagated deadline, the last waits.
        await Assert.ThrowsAsync<RpcTimeoutException>(() => rpc.CreateClient<IStoppable>().WaitAsync(2));
        await Wait.UntilAsync(() => server.InFlight == 0, "every hop ended");
        // Each of the three hops logs how it ended (stopped, or, wrongly, failed); then nothing may be an error.
        await Wait.UntilAsync(() => logs.Events.Count(e => e.EventId is RpcLogEvents.HandlerStopped or RpcLogEvents.HandlerFailed) == 3, "each of the three hops logged how it ended");

        Report(logs);
        Assert.DoesNotContain(logs.Events, e => e.Level >= LogLevel.Error);
        Assert.All(logs.Events.Where(e => e.EventId == RpcLogEvents.HandlerStopped), e =>
        {
            Assert.Equal(LogLevel.Information, e.Level);
            Assert.Null(e.Exception);
            Assert.Contains("deadline passed", e.Message);
        });
    }

    private void Report(CapturingLoggerFactory logs)
    {
        foreach (var e in logs.Events.Where(e => e.Level >= LogLevel.Information))
        {
            output.WriteLine($"{e.Level} {e.EventId}: {e.Message}{(e.Exception is null ? "" : " [with exception " + e.Exception.GetType().Name + "]")}");
        }
    }
}
