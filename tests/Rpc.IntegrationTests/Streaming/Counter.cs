using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using RpcGen.IntegrationTests.Shapes.Streaming;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// The server of the streaming tests. It records, per enumeration, how far it got and when its <c>finally</c> ran, and
/// (given the caller's count of items taken) how far ahead of its caller it ever ran.
/// </summary>
internal sealed class Counter : ICounter
{
    /// <summary>Items the caller's code has taken so far (set by a test that measures how far ahead the server runs).</summary>
    public Func<long>? CallerTook { get; set; }

    /// <summary>The most items the server had produced beyond what the caller had taken, when it produced one.</summary>
    public long MaxAhead;

    /// <summary>Enumerations started and those whose finally ran.</summary>
    public int Started;
    public int Finished;

    /// <summary>When each enumeration's finally ran, and how many items it had produced by then.</summary>
    public readonly ConcurrentQueue<(long At, long Produced, bool Cancelled)> Finallies = new();

    private readonly TaskCompletionSource _firstFinally = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstFinally => _firstFinally.Task;

    public IAsyncEnumerable<int> CountAsync(int n, CancellationToken cancellationToken = default) => Count(n, 0, fail: false, cancellationToken);

    public IAsyncEnumerable<int> TickAsync(int n, int delayMs, bool fail, CancellationToken cancellationToken = default) =>
        Count(n, delayMs, fail, cancellationToken);

    public async IAsyncEnumerable<int> PauseAsync(int before, int pauseMs, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Started);
        long produced = 0;
        try
        {
            for (int i = 0; i <= before; i++)
            {
                if (i == before) await Task.Delay(pauseMs, cancellationToken);
                produced = i + 1;
                yield return i;
            }
        }
        finally
        {
            Ended(produced, cancellationToken.IsCancellationRequested);
        }
    }

    public async IAsyncEnumerable<int> BreakAtAsync(int at, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < at; i++)
        {
            await Task.Yield();
            yield return i;
        }

        throw new CountBrokeException(at);
    }

    public async IAsyncEnumerable<Chunk> ChunksAsync(int count, int size, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var data = new byte[size];
        for (int i = 0; i < count; i++)
        {
            data[0] = (byte)i;
            yield return new Chunk(i, data);
        }

        await Task.CompletedTask;
    }

    private async IAsyncEnumerable<int> Count(int n, int delayMs, bool fail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Started);
        long produced = 0;
        try
        {
            for (int i = 0; i < n; i++)
            {
                if (delayMs > 0) await Task.Delay(delayMs, cancellationToken);
                produced = i + 1;
                if (CallerTook is { } took)
                {
                    long ahead = produced - took();
                    long max;
                    while (ahead > (max = Interlocked.Read(ref MaxAhead)) && Interlocked.CompareExchange(ref MaxAhead, ahead, max) != max)
                    {
                    }
                }

                yield return i;
            }

            if (fail) throw new InvalidOperationException($"The count failed after {n} items.");
        }
        finally
        {
            Ended(produced, cancellationToken.IsCancellationRequested);
        }
    }

    private void Ended(long produced, bool cancelled)
    {
        Finallies.Enqueue((Stopwatch.GetTimestamp(), produced, cancelled));
        Interlocked.Increment(ref Finished);
        _firstFinally.TrySetResult();
    }
}
