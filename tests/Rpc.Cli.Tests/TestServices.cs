using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Samples.Fibonacci;
using Samples.Shop;

namespace RpcGen.Cli.Tests;

/// <summary>
/// The Fibonacci sample's contracts (IFibonacci and IFibonacciSequence) served by a test implementation that also fails
/// on purpose and remembers what it saw: fib(n) as the sample computes it; n = 93 and up throws the declared fault; n = 77 takes 5 s (a call to time
/// out); the stream records when the caller's cancel reached it.
/// </summary>
public sealed class RecordingFibonacci : IFibonacci, IFibonacciSequence
{
    private readonly FibonacciService _sample = new();

    private readonly FibonacciSequenceService _sequence = new();

    public ConcurrentQueue<RpcContext> Calls { get; } = new();

    public int StreamItemsSent;

    public TaskCompletionSource StreamCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<long> FibAsync(int n, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue(RpcContext.Current!);
        if (n > 92) throw new FibonacciRangeException(n + 1, 93);
        if (n == 77) await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        return await _sample.FibAsync(n, cancellationToken);
    }

    public async IAsyncEnumerable<long> SequenceAsync(int count, int delayMs = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var registration = cancellationToken.Register(() => StreamCancelled.TrySetResult());
        await foreach (var item in _sequence.SequenceAsync(count, delayMs, cancellationToken))
        {
            Interlocked.Increment(ref StreamItemsSent);
            yield return item;
        }
    }
}

/// <summary>The shop's stock contract; Release fails while <see cref="Broken"/> is set, so its work is dead-lettered.</summary>
public sealed class BreakableStock : IStock
{
    public volatile bool Broken = true;

    public ConcurrentQueue<(string Sku, int Quantity)> Released { get; } = new();

    public Task<bool> ReserveAsync(string sku, int quantity) => Task.FromResult(quantity <= 10);

    public Task ReleaseAsync(string sku, int quantity)
    {
        if (Broken) throw new InvalidOperationException($"no reservation of {sku} to release");
        Released.Enqueue((sku, quantity));
        return Task.CompletedTask;
    }
}

/// <summary>A subscriber of the shop's order events that keeps what it got.</summary>
public sealed class OrderInbox : IOrderEvents
{
    public ConcurrentQueue<(string RoutingKey, OrderPlaced Order)> Received { get; } = new();

    public Task OrderPlacedAsync(string routingKey, OrderPlaced order)
    {
        Received.Enqueue((routingKey, order));
        return Task.CompletedTask;
    }
}
