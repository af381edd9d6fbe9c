using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Shapes.Faults;

namespace RpcGen.IntegrationTests.Batching;

[RpcService(Queue = "batch-probe")]
internal interface IBatchProbe
{
    Task<int> AddAsync(int a, int b);

    /// <summary>Returns <paramref name="value"/>; a negative one is refused with a declared fault.</summary>
    [RpcFault(typeof(OutOfStockException))]
    Task<int> CheckAsync(int value);

    /// <summary>What the server saw of this call: correlation id, user id, whether it had a deadline, redelivered.</summary>
    Task<string> ContextAsync();

    /// <summary>Answers only once the test opens the gate.</summary>
    Task<int> GateAsync(int value);

    Task<int> EchoAsync(int value, CancellationToken cancellationToken = default);
}

internal sealed class BatchProbe : IBatchProbe
{
    private int _calls;

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<string?> CorrelationIds { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    public Task<int> AddAsync(int a, int b)
    {
        Seen();
        return Task.FromResult(a + b);
    }

    public Task<int> CheckAsync(int value)
    {
        Seen();
        if (value < 0) throw new OutOfStockException("sku-" + value, -value, 0);
        return Task.FromResult(value);
    }

    public Task<string> ContextAsync()
    {
        Seen();
        var context = RpcContext.Current!;
        return Task.FromResult($"{context.CorrelationId}|{context.UserId}|{context.Deadline is not null}|{context.Redelivered}");
    }

    public async Task<int> GateAsync(int value)
    {
        Seen();
        await Gate.Task;
        return value;
    }

    public Task<int> EchoAsync(int value, CancellationToken cancellationToken = default)
    {
        Seen();
        return Task.FromResult(value);
    }

    private void Seen()
    {
        Interlocked.Increment(ref _calls);
        CorrelationIds.Enqueue(RpcContext.Current?.CorrelationId);
    }
}
