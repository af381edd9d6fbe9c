using System;
using System.Collections.Concurrent;
using System.Threading;

namespace RpcGen.Server;

/// <summary>
/// The calls one server is running, by correlation id, so a cancel from the control path fires the right handler's
/// token; and the cancels for calls it has not received yet, remembered until the call's deadline, so a request
/// cancelled while still in the queue is refused unrun when it arrives. A cancel counts only when it comes from the
/// caller's user (RabbitMQ checks the <c>user_id</c> of both against the publishing connection).
/// </summary>
internal sealed class RunningCalls
{
    // Without a deadline on the cancel, remember it this long (MaxEarlyCancelMemory caps it); at most this many remembered at once.
    private const long DefaultMemoryMs = 60_000;
    private const int MaxRemembered = 100_000;

    /// <summary>Early cancels remembered at once for one caller (one broker user; callers without user_id share one).</summary>
    internal const int MaxRememberedPerCaller = 10_000;

    private readonly ConcurrentDictionary<string, RpcServerCall> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long ForgetAt, string? UserId)> _early = new(StringComparer.Ordinal);
    // Keyed by the broker-checked user_id, so by real broker users only: as few keys as the broker has users.
    private readonly ConcurrentDictionary<string, int> _perCaller = new(StringComparer.Ordinal);
    private readonly object _pruneGate = new();
    private ITimer? _pruner;
    private int _pruning;
    private bool _stopped;
    private readonly ServerCounters _counters;

    private const int PruneEveryMs = 1000;

    /// <param name="counters">Where the calls cancelled by their callers are counted.</param>
    /// <param name="time">The clock of the remembered cancels; the system's when null.</param>
    public RunningCalls(ServerCounters counters, TimeProvider? time = null)
    {
        _counters = counters;
        _time = time ?? TimeProvider.System;
    }

    private readonly TimeProvider _time;

    /// <summary>The longest an early cancel is remembered, however far its deadline (tests shorten it).</summary>
    public TimeSpan MaxEarlyCancelMemory { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Early cancels remembered now.</summary>
    public int EarlyCancels => _early.Count;

    /// <summary>True when the caller cancelled this request before it arrived: do not run it.</summary>
    public bool WasCancelled(string? correlationId, string? userId)
    {
        if (correlationId is null || _early.IsEmpty) return false;
        if (!_early.TryRemove(correlationId, out var cancel)) return false;
        Counted(cancel.UserId, -1);
        if (!SameCaller(cancel.UserId, userId)) return false;
        _counters.CancelledByCaller();
        return true;
    }

    /// <summary>Registers a call while its handler runs; returns false when it cannot be cancelled (no correlation id, or a duplicate).</summary>
    public bool Track(RpcServerCall call)
    {
        var correlationId = call.Context.CorrelationId;
        if (correlationId is null || !_running.TryAdd(correlationId, call)) return false;
        // A cancel that arrived between the check above and now sits in the early set.
        if (!_early.IsEmpty && _early.TryRemove(correlationId, out var cancel) && Counted(cancel.UserId, -1) && SameCaller(cancel.UserId, call.Context.UserId))
        {
            _counters.CancelledByCaller();
            call.CancelByCaller();
        }

        return true;
    }

    public void Untrack(RpcServerCall call) => _running.TryRemove(new(call.Context.CorrelationId!, call));

    public void Cancel(string correlationId, string? userId, long? deadline)
    {
        if (_running.TryGetValue(correlationId, out var call))
        {
            if (!SameCaller(userId, call.Context.UserId)) return;
            _counters.CancelledByCaller();
            call.CancelByCaller();
            return;
        }

        // The deadline is the sender's word: never remembered past the server's own bound, and forgotten by a timer,
        // so a flood of cancels costs O(1) each and its memory drains on its own. Each caller has a share of the
        // memory, so one flooding it (any connection may publish to the control exchange) leaves room for the others.
        if (_early.Count >= MaxRemembered) return;
        if (_perCaller.TryGetValue(userId ?? string.Empty, out var held) && held >= MaxRememberedPerCaller) return;
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long latest = now + (long)MaxEarlyCancelMemory.TotalMilliseconds;
        var cancel = (Math.Min(deadline ?? now + DefaultMemoryMs, latest), userId);
        if (_early.TryAdd(correlationId, cancel))
        {
            Counted(userId, +1);
        }
        else if (_early.TryGetValue(correlationId, out var earlier) && _early.TryUpdate(correlationId, cancel, earlier))
        {
            // The same id cancelled again: the latest stands, as before the per-caller count.
            Counted(earlier.UserId, -1);
            Counted(userId, +1);
        }

        EnsurePruning();
    }

    /// <summary>Moves a caller's count of remembered early cancels; true, so it can stand in a condition.</summary>
    private bool Counted(string? userId, int change)
    {
        _perCaller.AddOrUpdate(userId ?? string.Empty, change, (_, n) => n + change);
        return true;
    }

    private void EnsurePruning()
    {
        if (Volatile.Read(ref _pruning) != 0 || Interlocked.Exchange(ref _pruning, 1) != 0) return;
        lock (_pruneGate)
        {
            if (_stopped) return;
            _pruner ??= _time.CreateTimer(static state => ((RunningCalls)state!).Prune(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _pruner.Change(TimeSpan.FromMilliseconds(PruneEveryMs), TimeSpan.FromMilliseconds(PruneEveryMs));
        }
    }

    private void Prune()
    {
        Forget(_time.GetUtcNow().ToUnixTimeMilliseconds());
        if (!_early.IsEmpty) return;
        lock (_pruneGate)
        {
            Volatile.Write(ref _pruning, 0);
            // A cancel added meanwhile saw the timer running: keep it running.
            if (!_early.IsEmpty) Volatile.Write(ref _pruning, 1);
            else _pruner?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the pruning timer (the server stopped).</summary>
    public void Stop()
    {
        lock (_pruneGate)
        {
            _stopped = true;
            _pruner?.Dispose();
            _pruner = null;
        }

        _early.Clear();
        _perCaller.Clear();
    }

    /// <summary>Credit for a streamed result from its caller; ignored for a call that is not (or no longer) streaming here.</summary>
    public void Grant(string correlationId, string? userId, long credit)
    {
        if (_running.TryGetValue(correlationId, out var call) && SameCaller(userId, call.Context.UserId)) call.Stream?.Grant(credit);
    }

    /// <summary>Calls running now.</summary>
    public int Count => _running.Count;

    private void Forget(long now)
    {
        foreach (var entry in _early)
        {
            if (entry.Value.ForgetAt < now && _early.TryRemove(entry)) Counted(entry.Value.UserId, -1);
        }
    }

    /// <summary>A request without user_id (a plain client) may be cancelled by anyone who knows its correlation id.</summary>
    private static bool SameCaller(string? cancelUser, string? requestUser) => requestUser is null || string.Equals(cancelUser, requestUser, StringComparison.Ordinal);
}
