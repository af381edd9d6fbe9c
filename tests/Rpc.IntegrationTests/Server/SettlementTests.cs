using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Reliability;

[RpcService(Queue = "settle")]
public interface ISettleService
{
    Task<int> EchoAsync(int value);

    Task FailAsync(int value);

    [RpcMethod(OneWay = true)]
    Task FailLaterAsync(int value);

    /// <summary>Runs until its token fires; true when it did.</summary>
    Task<bool> WaitAsync(CancellationToken cancellationToken = default);
}

public sealed class SettleService : ISettleService
{
    public Task<int> EchoAsync(int value) => Task.FromResult(value);

    public Task FailAsync(int value) => throw new InvalidOperationException("failing on purpose " + value);

    public Task FailLaterAsync(int value) => throw new InvalidOperationException("one-way failing on purpose " + value);

    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(60), cancellationToken);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}

/// <summary>
/// Every delivery is settled exactly once whatever throws around the handler (Server/RpcServer.HandleAsync): here the
/// server's tracing listener and its log provider throw on every request, and all 10 x Prefetch requests are still
/// answered and acked. Without that, each one left unsettled would hold a prefetch slot, and the server would stop.
/// </summary>
public sealed class SettlementTests
{
    [Fact]
    public async Task Requests_are_answered_and_settled_when_telemetry_and_logging_throw()
    {
        const ushort prefetch = 4;
        const int requests = 10 * prefetch;
        using var listener = new ActivityListener
        {
            // Only this test's server spans: client spans, and other tests running meanwhile, are left alone.
            ShouldListenTo = source => source.Name == "RpcGen",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Kind == ActivityKind.Server && options.Name.StartsWith("SettleService/", StringComparison.Ordinal)
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStarted = activity =>
            {
                if (activity.OperationName.EndsWith("/Echo", StringComparison.Ordinal)) throw new InvalidOperationException("listener throws on start");
            },
            ActivityStopped = _ => throw new InvalidOperationException("listener throws on stop"),
        };
        ActivitySource.AddActivityListener(listener);

        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync(o =>
        {
            o.Server.Prefetch = prefetch;
            o.LoggerFactory = new ThrowingLoggerFactory();
        });
        var server = await broker.ServeAsync<ISettleService>(serving, new SettleService());
        using var meter = new ServerMeter(server.Queue);
        // One delivery per request, as the count below says (batching is on by default since issue 27; a batch is one delivery).
        var calling = await broker.ConnectAsync(o =>
        {
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(20);
            o.Client.BatchCalls = false;
        });
        var client = calling.CreateClient<ISettleService>();

        // Half succeed (the listener throws when their span starts), half fail in the handler (it throws when their
        // span stops, and the log provider throws when the failure is logged).
        var echoes = Enumerable.Range(0, requests / 2).Select(i => client.EchoAsync(i)).ToArray();
        var failures = Enumerable.Range(0, requests / 2).Select(i => Record.ExceptionAsync(() => client.FailAsync(i))).ToArray();

        Assert.Equal(Enumerable.Range(0, requests / 2), await Task.WhenAll(echoes));
        foreach (var failure in await Task.WhenAll(failures))
        {
            var remote = Assert.IsType<RpcRemoteException>(failure);
            Assert.Equal("System.InvalidOperationException", remote.RemoteType);
        }

        await Wait.UntilAsync(() => meter.Settled == requests, $"all {requests} requests settled (settled: {meter.Settled})");
        Assert.Equal(requests, server.Served);
        Assert.Equal(0, server.InFlight);
        // The window is free: more calls go through, and nothing is left unacked in the queue.
        Assert.Equal(99, await client.EchoAsync(99));
        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    /// <summary>
    /// The path where answering itself throws: a one-way request whose handler fails is handed off (retried or
    /// dead-lettered) and the hand-off's log entry throws, out of AnswerAsync into HandleAsync's catch. Each delivery
    /// must still be settled, or the prefetch window fills (here after 2) and the server stops taking requests.
    /// </summary>
    [Fact]
    public async Task A_one_way_request_whose_answering_throws_is_still_settled_and_the_server_goes_on()
    {
        const ushort prefetch = 2;
        const int requests = 6;
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync(o =>
        {
            o.Server.Prefetch = prefetch;
            o.Server.RetryLimit = 0;
            o.LoggerFactory = new ThrowingLoggerFactory();
        });
        var server = await broker.ServeAsync<ISettleService>(serving, new SettleService());
        using var meter = new ServerMeter(server.Queue);
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(5));
        var client = calling.CreateClient<ISettleService>();

        for (int i = 0; i < requests; i++) await client.FailLaterAsync(i);

        await Wait.UntilAsync(() => meter.Settled >= requests, $"all {requests} one-way requests settled (settled: {meter.Settled})");
        Assert.Equal(0, server.InFlight);
        // The window is free: a call goes through.
        Assert.Equal(7, await client.EchoAsync(7));
        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    /// <summary>The server's logger (category RpcGen.Server) throws on every entry; the others log nowhere.</summary>
    private sealed class ThrowingLoggerFactory : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == "RpcGen.Server" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException("log provider throws");
    }
}
