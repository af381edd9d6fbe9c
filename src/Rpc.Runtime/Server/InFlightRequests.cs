using System;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.Server;

/// <summary>
/// The deliveries a server is handling right now, and a wait for none to be left that wakes when the last one is
/// settled (draining on stop) instead of polling.
/// </summary>
internal sealed class InFlightRequests
{
    private int _count;
    // Made by a waiter; completed by the delivery that brings the count to zero.
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    public void Enter() => Interlocked.Increment(ref _count);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0) Volatile.Read(ref _idle)?.TrySetResult();
    }

    /// <summary>Waits until no delivery is in flight, at most <paramref name="limit"/> or until <paramref name="cancellationToken"/> fires; never throws.</summary>
    public async Task WhenIdleAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _idle, idle);
            // Checked after the waiter is in place: a delivery settled just before is seen here, one settled after completes it.
            var left = deadline - DateTime.UtcNow;
            if (Count == 0 || left <= TimeSpan.Zero || cancellationToken.IsCancellationRequested) return;
            try
            {
                await idle.Task.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                return;
            }
        }
    }
}
