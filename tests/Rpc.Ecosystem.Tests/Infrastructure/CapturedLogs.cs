using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>A logger provider that keeps every entry, at every level, for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly SemaphoreSlim _added = new(0);

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public IEnumerable<LogEntry> WithEventId(int id) => _entries.Where(e => e.EventId.Id == id);

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    /// <summary>Waits until an entry with <paramref name="eventId"/> is logged, at most <paramref name="limit"/>.</summary>
    public async Task<LogEntry> WaitForAsync(int eventId, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        while (true)
        {
            var found = WithEventId(eventId).FirstOrDefault();
            if (found is not null) return found;
            try
            {
                await _added.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No log entry with event id {eventId} within {limit}. Logged: " +
                    string.Join(" | ", Entries.Select(e => $"{e.EventId.Id} {e.Message}")));
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner._entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
            owner._added.Release();
        }
    }
}
