using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Testing;

/// <summary>
/// The harness's fake clock as RpcGen sees it: a <see cref="FakeTimeProvider"/> that also knows when each of its
/// timers is next due, so <see cref="RpcTestHarness.AdvanceTimeUntilAsync{T}"/> can move time from one due timer to the
/// next (a retry's backoff, a timeout) instead of guessing how far.
/// </summary>
internal sealed class TrackedClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly HashSet<TrackedTimer> _timers = new();
    private TaskCompletionSource _created = NewSignal();

    public TrackedClock(FakeTimeProvider fake) => Fake = fake;

    public FakeTimeProvider Fake { get; }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    /// <summary>Completes when a timer is created or set.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate) return _created.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(this, callback, state);
        timer.Start(dueTime, period);
        return timer;
    }

    /// <summary>When the earliest timer is next due; null when none is set.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_gate)
        {
            DateTimeOffset? next = null;
            foreach (var timer in _timers)
            {
                if (timer.DueAt is { } due && (next is null || due < next)) next = due;
            }

            return next;
        }
    }

    private void Set(TrackedTimer timer, DateTimeOffset? dueAt)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            timer.DueAt = dueAt;
            if (dueAt is null) _timers.Remove(timer);
            else _timers.Add(timer);
            changed = _created;
            _created = NewSignal();
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class TrackedTimer : ITimer
    {
        private readonly TrackedClock _clock;
        private readonly TimerCallback _callback;
        private ITimer? _inner;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public TrackedTimer(TrackedClock clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _callback = callback;
            State = state;
        }

        public object? State { get; }

        public DateTimeOffset? DueAt { get; set; }

        public void Start(TimeSpan dueTime, TimeSpan period)
        {
            _inner = _clock.Fake.CreateTimer(static state => ((TrackedTimer)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Change(dueTime, period);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            _clock.Set(this, dueTime == Timeout.InfiniteTimeSpan ? null : _clock.GetUtcNow() + dueTime);
            return _inner!.Change(dueTime, period);
        }

        private void Fire()
        {
            _clock.Set(this, _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? _clock.GetUtcNow() + _period : null);
            _callback(State);
        }

        public void Dispose()
        {
            _clock.Set(this, null);
            _inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
