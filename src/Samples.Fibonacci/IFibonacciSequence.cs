using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.Fibonacci;

/// <summary>
/// The sequence as a streamed result (queue "FibonacciSequence"). A service of its own: IFibonacci keeps exactly one
/// method, so the RabbitMQ tutorial's plain clients can keep calling it without a "type" property.
/// </summary>
[RpcService]
public interface IFibonacciSequence
{
    /// <summary>
    /// fib(0) to fib(count - 1) as a stream, one item every <paramref name="delayMs"/> milliseconds; a count over 93
    /// is refused with the declared fault <see cref="FibonacciRangeException"/>.
    /// </summary>
    [RpcFault(typeof(FibonacciRangeException))]
    IAsyncEnumerable<long> SequenceAsync(int count, int delayMs = 0, CancellationToken cancellationToken = default);
}

/// <summary>The implementation a server runs.</summary>
public sealed class FibonacciSequenceService : IFibonacciSequence
{
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
