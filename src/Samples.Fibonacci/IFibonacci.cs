using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.Fibonacci;

/// <summary>The service: callers see a local method; RpcGen carries it over RabbitMQ (queue "Fibonacci").</summary>
[RpcService]
[RpcFault(typeof(FibonacciRangeException))] // any method may throw it; its properties travel as the fault's data
public interface IFibonacci
{
    /// <summary>The n-th Fibonacci number (fib(0) = 0, fib(1) = 1).</summary>
    Task<long> FibAsync(int n, CancellationToken cancellationToken = default);

    /// <summary>
    /// fib(0) to fib(count - 1) as a stream, one item every <paramref name="delayMs"/> milliseconds; a count over 93
    /// is refused with the declared fault <see cref="FibonacciRangeException"/>.
    /// </summary>
    IAsyncEnumerable<long> SequenceAsync(int count, int delayMs = 0, CancellationToken cancellationToken = default);
}

/// <summary>A declared fault: the caller asked for more numbers than a long holds; its properties travel as data.</summary>
public sealed class FibonacciRangeException : Exception
{
    /// <summary>Creates the fault.</summary>
    public FibonacciRangeException(int requested, int limit)
        : base($"{requested} numbers asked for; a long holds the first {limit} only.")
    {
        Requested = requested;
        Limit = limit;
    }

    /// <summary>How many numbers the caller asked for.</summary>
    public int Requested { get; }

    /// <summary>How many there are: fib(0) to fib(Limit - 1).</summary>
    public int Limit { get; }
}

/// <summary>The implementation a server runs.</summary>
public sealed class FibonacciService : IFibonacci
{
    /// <inheritdoc/>
    public Task<long> FibAsync(int n, CancellationToken cancellationToken = default)
    {
        if (n < 0 || n > 92) throw new System.ArgumentOutOfRangeException(nameof(n), n, "n must be between 0 and 92 (fib(93) overflows a long).");
        long previous = 0, current = 0, next = 1;
        for (int i = 0; i < n; i++)
        {
            previous = current;
            current = next;
            next = previous + current;
        }

        return Task.FromResult(current);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<long> SequenceAsync(int count, int delayMs = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (count < 0 || count > 93) throw new FibonacciRangeException(count, 93);
        long current = 0, next = 1;
        for (int i = 0; i < count; i++)
        {
            if (delayMs > 0) await Task.Delay(delayMs, cancellationToken);
            yield return current;
            (current, next) = (next, current + next);
        }
    }
}
