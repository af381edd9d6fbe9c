using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.Client;

/// <summary>
/// Decides, for one queue, which calls go out alone and which wait to go out together (<see cref="RpcClientOptions.BatchCalls"/>).
/// A call made while nothing else is in flight on the connection is published by its caller at once, on its own: a
/// lone call waits for no company. A call made while a publish to the queue is under way, or while other calls are in
/// flight, waits in line; one worker on the thread pool takes the waiting calls, up to a batch at a time, until the line
/// is empty. Under load, replies come back in batches and set their callers making the next calls together, so the
/// worker finds them in line: batches form exactly when there is something to batch.
/// </summary>
internal sealed class CallBatcher
{
    private readonly object _gate = new();
    private readonly Queue<WaitingCall> _waiting = new();
    private readonly Func<List<WaitingCall>, ValueTask> _publish;
    private readonly int _maxCalls;
    private readonly int _maxBytes;
    // The calls the worker takes at a time; one worker runs at a time (while _publishing), so one list serves them all.
    private readonly List<WaitingCall> _taken;
    private bool _publishing;
    private readonly Func<int>? _inFlight;
    private readonly TimeProvider _time;
    // Set while the worker waits for a short line to fill; completed by the call that fills it.
    private TaskCompletionSource? _lineFull;
    private int _waitingBytes;

    /// <summary>How long a short line waits for the callers of a crowd of calls in flight to join it.</summary>
    internal static readonly TimeSpan CompanyWait = TimeSpan.FromMilliseconds(1);

    /// <param name="publish">Publishes the calls taken from the line together (one of them alone when only one waits).</param>
    /// <param name="maxCalls">The most calls in one batch.</param>
    /// <param name="maxBytes">The most request body bytes in one batch, item overheads included.</param>
    /// <param name="inFlight">Calls waiting for a reply on the connection (null: none counted, a short line goes out at once).</param>
    /// <param name="time">The clock of <see cref="CompanyWait"/>; the system's when null.</param>
    public CallBatcher(Func<List<WaitingCall>, ValueTask> publish, int maxCalls, int maxBytes, Func<int>? inFlight = null, TimeProvider? time = null)
    {
        _inFlight = inFlight;
        _time = time ?? TimeProvider.System;
        _publish = publish;
        _maxCalls = maxCalls;
        _maxBytes = maxBytes;
        _taken = new List<WaitingCall>(maxCalls);
    }

    /// <summary>No publish is under way and no call waits (tests wait for it).</summary>
    internal bool IsIdle
    {
        get
        {
            lock (_gate) return !_publishing;
        }
    }

    /// <summary>
    /// Puts the call in line and returns true if a publish to the queue is under way, or if other calls are in flight
    /// (<paramref name="othersInFlight"/>: their replies will set their callers making calls of their own, which a
    /// worker started now will find in line). Otherwise returns false and the caller publishes it alone now, then calls
    /// <see cref="Published"/>: a lone call is never delayed.
    /// </summary>
    public bool TryWait(in WaitingCall call, bool othersInFlight)
    {
        lock (_gate)
        {
            if (_publishing)
            {
                _waiting.Enqueue(call);
                _waitingBytes += call.Size;
                if (_lineFull is not null && LineIsFull)
                {
                    _lineFull.TrySetResult();
                    _lineFull = null;
                }

                return true;
            }

            _publishing = true;
            if (!othersInFlight) return false;
            _waiting.Enqueue(call);
            _waitingBytes += call.Size;
        }

        StartWorker();
        return true;
    }

    /// <summary>The caller's own publish is done: the calls that lined up meanwhile are handed to a worker, never to the caller.</summary>
    public void Published()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0)
            {
                _publishing = false;
                return;
            }
        }

        StartWorker();
    }

    /// <summary>
    /// Queued behind the work already on the thread pool, which is often the continuations of callers whose replies
    /// just came: their next calls are in line by the time it runs. And the caller's thread goes back to its own call;
    /// a stream of arrivals must not keep it publishing others'.
    /// </summary>
    private void StartWorker() => ThreadPool.UnsafeQueueUserWorkItem(static batcher => _ = batcher.DrainAsync(), this, preferLocal: false);

    /// <summary>Acts as a publish under way until disposed (RpcInvoker.HoldBatches).</summary>
    public IDisposable Hold()
    {
        lock (_gate)
        {
            if (_publishing) throw new InvalidOperationException("A publish to this queue is under way; hold it while it is idle.");
            _publishing = true;
        }

        return new Held(this);
    }

    private sealed class Held(CallBatcher batcher) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) batcher.Published();
        }
    }

    /// <summary>
    /// With two batches' worth of other calls in flight, their replies are about to bring their callers back with calls
    /// of their own: a short line then waits for them (until full, or <see cref="CompanyWait"/>) instead of going out
    /// nearly alone. Otherwise batches settle at the size of the replies that set their callers going, two or three
    /// calls for bodies of 1 KB, whose callers come back slower than the worker takes them (docs/performance.md).
    /// </summary>
    private Task? WaitsForCompany()
    {
        if (_inFlight is null) return null;
        lock (_gate)
        {
            int line = _waiting.Count;
            if (line == 0 || LineIsFull || _inFlight() - line < 2 * _maxCalls) return null;
            _lineFull = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _lineFull.Task;
        }
    }

    /// <summary>The line holds a whole batch, by count or by bytes (under the gate).</summary>
    private bool LineIsFull => _waiting.Count >= _maxCalls || _waitingBytes >= _maxBytes;

    private async Task DrainAsync()
    {
        var batch = _taken;
        while (true)
        {
            batch.Clear();
            if (WaitsForCompany() is { } lineFull)
            {
                await Task.WhenAny(lineFull, Task.Delay(CompanyWait, _time)).ConfigureAwait(false);
                lock (_gate) _lineFull = null;
            }

            lock (_gate)
            {
                int bytes = 0;
                while (_waiting.Count > 0 && batch.Count < _maxCalls)
                {
                    int size = _waiting.Peek().Size;
                    if (batch.Count > 0 && bytes + size > _maxBytes) break;
                    bytes += size;
                    batch.Add(_waiting.Dequeue());
                    _waitingBytes -= size;
                }

                if (batch.Count == 0)
                {
                    _publishing = false;
                    return;
                }
            }

            // The publisher fails the calls itself when the publish fails; nothing it throws may end the line.
            try
            {
                await _publish(batch).ConfigureAwait(false);
            }
            catch (Exception)
            {
            }
        }
    }
}

/// <summary>A call waiting to be published in a batch: its pending state, its request body, and what that takes in a batch.</summary>
internal readonly record struct WaitingCall(PendingCall Call, RpcRequest Request, int Size);
