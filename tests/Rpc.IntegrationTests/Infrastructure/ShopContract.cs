using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RpcGen.IntegrationTests.Shapes.Faults;

namespace RpcGen.IntegrationTests.Semantics;

internal class Shop : IShop
{
    public ConcurrentQueue<(string? CorrelationId, bool TokenFired, TimeSpan After)> Holds { get; } = new();
    public int Started;

    public virtual Task<int> ReserveAsync(string sku, int quantity)
    {
        if (sku == "forbidden") throw new NotAllowedException("not for you") { User = RpcContext.Current?.UserId };
        if (quantity > 5) throw new OutOfStockException(sku, quantity, 5);
        return Task.FromResult(quantity);
    }

    public Task<int> HoldAsync(int milliseconds, CancellationToken cancellationToken = default) => WaitAsync(milliseconds, cancellationToken);

    public virtual async Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Started);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var id = RpcContext.Current?.CorrelationId;
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Holds.Enqueue((id, true, started.Elapsed));
            throw;
        }

        Holds.Enqueue((id, false, started.Elapsed));
        return milliseconds;
    }

    public Task<string?> HeaderAsync(string name) =>
        Task.FromResult(RpcContext.Current!.Headers.TryGetValue(name, out var value) ? value : null);

    public Task BreakAsync() => throw new InvalidOperationException("broken");
}

/// <summary>Collects log events (id, level, message) from every logger it creates.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(string Category, int EventId, LogLevel Level, string Message, Exception? Exception)> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Events.Enqueue((category, eventId.Id, logLevel, formatter(state, exception), exception));
    }
}

/// <summary>
/// The semantics tests share process-wide listeners (spans, metrics): their classes run one at a time. They also assert
/// promised timings (a deadline, "fails within 3 s"), so the collection runs alone, after the load, restart and cluster
/// tests have finished, never beside them on the CI host's two cores.
/// </summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SemanticsCollection
{
    public const string Name = "Semantics";
}
