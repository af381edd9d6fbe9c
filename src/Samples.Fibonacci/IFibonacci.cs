using System.Threading;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.Fibonacci;

/// <summary>The service: callers see a local method; RpcGen carries it over RabbitMQ (queue "Fibonacci").</summary>
[RpcService]
// Declared for the service, so a server whose FibAsync throws it sends its data; the sample's throws
// ArgumentOutOfRangeException, as the tutorial clients expect. Still one method: those clients send no "type".
[RpcFault(typeof(FibonacciRangeException))]
public interface IFibonacci
{
    /// <summary>The n-th Fibonacci number (fib(0) = 0, fib(1) = 1).</summary>
    Task<long> FibAsync(int n, CancellationToken cancellationToken = default);
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
}
