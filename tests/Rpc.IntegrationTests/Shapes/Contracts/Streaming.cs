// Shape: streamed results. The client returns an IAsyncEnumerable<T> that starts the call when enumerated; the
// dispatcher hands the implementation's IAsyncEnumerable<T> to the runtime, which sends it as the caller grants credit.
using System;
using System.Collections.Generic;
using System.Threading;

namespace RpcGen.IntegrationTests.Shapes.Streaming;

/// <summary>A declared fault thrown in the middle of a stream.</summary>
internal sealed class CountBrokeException : Exception
{
    public CountBrokeException(int at)
        : base($"The count broke at {at}.")
    {
        At = at;
    }

    public int At { get; }
}

/// <summary>A small record item.</summary>
internal sealed record Chunk(int Index, byte[] Data);

[RpcService]
internal interface ICounter
{
    /// <summary>0, 1, ..., n - 1.</summary>
    IAsyncEnumerable<int> CountAsync(int n, CancellationToken cancellationToken = default);

    /// <summary>0 .. n - 1, each after <paramref name="delayMs"/>, then undeclared failure when <paramref name="fail"/>.</summary>
    IAsyncEnumerable<int> TickAsync(int n, int delayMs, bool fail, CancellationToken cancellationToken = default);

    /// <summary>0 .. before - 1 at once, then one more item after <paramref name="pauseMs"/>.</summary>
    IAsyncEnumerable<int> PauseAsync(int before, int pauseMs, CancellationToken cancellationToken = default);

    /// <summary>0 .. at - 1, then the declared fault.</summary>
    [RpcFault(typeof(CountBrokeException))]
    IAsyncEnumerable<int> BreakAtAsync(int at, CancellationToken cancellationToken = default);

    /// <summary><paramref name="count"/> chunks of <paramref name="size"/> bytes.</summary>
    IAsyncEnumerable<Chunk> ChunksAsync(int count, int size, CancellationToken cancellationToken = default);
}
