using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.PostgreSql;

/// <summary>
/// The in-process wake-up for relays of one outbox table when <see cref="PostgresOutboxOptions.NotifyOnCommit"/> is
/// off: a writer in this process says it wrote rows (not yet committed), and the relay looks again shortly after.
/// Writers in other processes are found by polling.
/// </summary>
internal sealed class OutboxSignal
{
    private static readonly ConcurrentDictionary<string, OutboxSignal> s_tables = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _written = new(0, 1);
    private long _writes;

    public static OutboxSignal For(string table) => s_tables.GetOrAdd(table, static _ => new OutboxSignal());

    /// <summary>How many writes this process made to the table: a relay that saw a new count expects rows soon.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    public void Written()
    {
        Interlocked.Increment(ref _writes);
        // At most one pending wake-up: a relay that wakes reads every row committed by then.
        if (_written.CurrentCount == 0)
        {
            try
            {
                _written.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another writer released it first: one wake-up is enough.
            }
        }
    }

    /// <summary>Waits for a write or <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _written.WaitAsync(timeout, cancellationToken);
}
