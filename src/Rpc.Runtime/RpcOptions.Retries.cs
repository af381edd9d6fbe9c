using System;
using System.Collections.Generic;

namespace RpcGen;

// How failed one-way work and events are tried again (docs/reliability.md, "One-way work").
public sealed partial class RpcOptions
{
    /// <summary>
    /// How long a server waits before it puts a failed one-way request or event back in its queue for the first retry;
    /// each further retry waits twice as long as the one before, up to <see cref="MaxRetryBackoff"/>. The server holds
    /// the failed delivery meanwhile: it takes one of the <see cref="Prefetch"/> slots for the wait. Zero retries at
    /// once. <see cref="RetryBackoffs"/> sets it per service. Defaults to 1 second (1 s, 2 s, 4 s for the default three retries).
    /// </summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before one retry (<see cref="RetryBackoff"/> doubles up to it). Defaults to 30 seconds.</summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <see cref="RetryBackoff"/> for single services or event subscriptions, keyed by service name (the interface name
    /// without its leading <c>I</c>, e.g. <c>Orders</c>); configuration keys <c>RpcGen:RetryBackoffs:Orders</c> =
    /// <c>00:00:05</c>. Defaults to empty.
    /// </summary>
    public IDictionary<string, TimeSpan> RetryBackoffs { get; set; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>The wait before retry <paramref name="retry"/> (1 for the first) of work of <paramref name="service"/>.</summary>
    internal TimeSpan RetryBackoffFor(string service, int retry)
    {
        var first = RetryBackoffs.TryGetValue(service, out var own) ? own : RetryBackoff;
        if (first <= TimeSpan.Zero || retry < 1) return TimeSpan.Zero;
        double factor = Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(first.Ticks * factor, MaxRetryBackoff.Ticks));
    }

    private void ValidateRetries()
    {
        if (RetryBackoff < TimeSpan.Zero) throw new ArgumentException("RpcOptions.RetryBackoff must not be negative.");
        if (MaxRetryBackoff < TimeSpan.Zero) throw new ArgumentException("RpcOptions.MaxRetryBackoff must not be negative.");
        if (RetryBackoffs is null) throw new ArgumentException("RpcOptions.RetryBackoffs must not be null.");
        foreach (var backoff in RetryBackoffs)
        {
            if (backoff.Value < TimeSpan.Zero) throw new ArgumentException($"RpcOptions.RetryBackoffs[\"{backoff.Key}\"] must not be negative.");
        }
    }
}
