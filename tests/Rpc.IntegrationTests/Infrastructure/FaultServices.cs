using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RpcGen.IntegrationTests.Infrastructure;

namespace RpcGen.IntegrationTests.Reliability;

[RpcService(Queue = "faults")]
public interface IFaultService
{
    /// <summary>Returns a string of <paramref name="size"/> characters; the first delivery only, unless <paramref name="always"/>.</summary>
    Task<string> MakeAsync(int size, bool always);

    /// <summary>Holds the first delivery for <paramref name="milliseconds"/>; a redelivery answers at once.</summary>
    Task<bool> HoldFirstAsync(int milliseconds, CancellationToken cancellationToken = default);

    /// <summary>Waits until its token fires (or 30 s), and reports what it saw.</summary>
    Task<string> WaitForCancellationAsync(CancellationToken cancellationToken = default);

    Task<int> EchoAsync(int value, string? padding);

    [RpcMethod(OneWay = true)]
    Task NoteAsync(int value);
}

public sealed class FaultService : IFaultService
{
    private int _made;
    private int _held;

    public ConcurrentQueue<(DateTimeOffset? Deadline, TimeSpan Waited, bool Cancelled)> Waits { get; } = new();

    public Task<string> MakeAsync(int size, bool always) =>
        Task.FromResult(always || Interlocked.Increment(ref _made) == 1 ? new string('x', size) : "small");

    /// <summary>Cancellations the held handler saw (its channel closed, or its deadline passed).</summary>
    public int HoldsCancelled => Volatile.Read(ref _holdsCancelled);

    private int _holdsCancelled;

    public async Task<bool> HoldFirstAsync(int milliseconds, CancellationToken cancellationToken)
    {
        if (RpcContext.Current!.Redelivered || Interlocked.Increment(ref _held) > 1) return true;
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _holdsCancelled);
        }

        return false;
    }

    public async Task<string> WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        var deadline = RpcContext.Current!.Deadline;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        bool cancelled = false;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }

        Waits.Enqueue((deadline, watch.Elapsed, cancelled));
        return cancelled ? "cancelled" : "not cancelled";
    }

    public Task<int> EchoAsync(int value, string? padding) => Task.FromResult(value);

    public ConcurrentQueue<int> Notes { get; } = new();

    public Task NoteAsync(int value)
    {
        Notes.Enqueue(value);
        return Task.CompletedTask;
    }
}

/// <summary>Log events, kept for assertions: the logger factory a test hands to RpcConnectionOptions.LoggerFactory.</summary>
public sealed class LogCapture : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ConcurrentQueue<(int EventId, LogLevel Level, string Message)> Entries { get; } = new();

    public bool Has(int eventId) => Entries.Any(e => e.EventId == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}

/// <summary>Changes one setting of the fault node's running broker (rabbit application env) and puts it back.</summary>
public sealed class BrokerSetting : IAsyncDisposable
{
    private readonly FaultBroker _broker;
    private readonly string _key;
    private readonly string _previous;

    private BrokerSetting(FaultBroker broker, string key, string previous)
    {
        _broker = broker;
        _key = key;
        _previous = previous;
    }

    /// <summary>New channels read it when they open (max_message_size, consumer_timeout, channel_tick_interval).</summary>
    public static async Task<BrokerSetting> SetAsync(FaultBroker broker, string key, string erlangValue)
    {
        var previous = (await broker.CtlAsync("eval", $"application:get_env(rabbit, {key}).")).Trim();
        await broker.CtlAsync("eval", $"application:set_env(rabbit, {key}, {erlangValue}).");
        return new BrokerSetting(broker, key, previous);
    }

    public async ValueTask DisposeAsync()
    {
        await _broker.StartAsync(); // a no-op when it runs
        if (_previous.StartsWith("{ok,", StringComparison.Ordinal))
        {
            await _broker.CtlAsync("eval", $"application:set_env(rabbit, {_key}, {_previous[4..^1]}).");
        }
        else
        {
            await _broker.CtlAsync("eval", $"application:unset_env(rabbit, {_key}).");
        }
    }
}
