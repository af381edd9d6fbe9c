using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace RpcGen.Testing.Tests.Conformance;

public sealed class Calc : ICalc
{
    private int _produced;

    /// <summary>Completes when a WaitAsync handler's token fired.</summary>
    public TaskCompletionSource TokenFired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a WaitAsync handler started, with the deadline it saw.</summary>
    public TaskCompletionSource<DateTimeOffset?> WaitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Items a CountAsync stream produced so far.</summary>
    public int Produced => Volatile.Read(ref _produced);

    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public Task<int> WithdrawAsync(int amount) =>
        amount > 100 ? throw new InsufficientFundsException($"{amount} is more than the balance", 100) : Task.FromResult(100 - amount);

    public Task<int> BreakAsync() => throw new InvalidOperationException("broken on purpose");

    public Task<string> WhoAmIAsync()
    {
        var context = RpcContext.Current!;
        return Task.FromResult($"{context.UserId} redelivered={context.Redelivered}");
    }

    public async Task<int> WaitAsync(CancellationToken cancellationToken)
    {
        WaitStarted.TrySetResult(RpcContext.Current?.Deadline);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        catch (OperationCanceledException)
        {
            TokenFired.TrySetResult();
            throw;
        }
    }

    public async IAsyncEnumerable<int> CountAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            Interlocked.Increment(ref _produced);
            yield return i;
        }

        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<int> StallAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return 1;
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

/// <summary>One-way work that records what it ran and fails the items it is told to.</summary>
public sealed class Work : IWork
{
    private readonly ConcurrentQueue<string> _done = new();
    private int _attempts;

    public IReadOnlyCollection<string> Done => _done;

    public int Attempts => Volatile.Read(ref _attempts);

    public Task DoAsync(string item)
    {
        Interlocked.Increment(ref _attempts);
        if (item.StartsWith("fail", StringComparison.Ordinal)) throw new InvalidOperationException($"cannot do {item}");
        _done.Enqueue(item);
        return Task.CompletedTask;
    }
}

public sealed class OrderedWork : IOrderedWork
{
    private readonly ConcurrentQueue<int> _steps = new();

    public IReadOnlyCollection<int> Steps => _steps;

    public Task StepAsync(int step)
    {
        _steps.Enqueue(step);
        return Task.CompletedTask;
    }
}

public sealed class EventLog : ITopicEvents, IFanoutEvents, IDirectEvents
{
    private readonly ConcurrentQueue<string> _seen = new();

    public IReadOnlyCollection<string> Seen => _seen;

    Task ITopicEvents.HappenedAsync(string routingKey, string what) => Record(what);

    Task IFanoutEvents.HappenedAsync(string what) => Record(what);

    Task IDirectEvents.HappenedAsync(string routingKey, string what) => Record(what);

    private Task Record(string what)
    {
        _seen.Enqueue(what);
        return Task.CompletedTask;
    }
}
