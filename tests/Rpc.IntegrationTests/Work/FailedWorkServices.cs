using System.Collections.Concurrent;
using System.Diagnostics;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>Work that fails on purpose, to exercise retries, dead letters, replays and refused replies.</summary>
[RpcService(Queue = "failing-work")]
public interface IFailingWork
{
    /// <summary>Always throws; its requests expire after 4 s in the queue.</summary>
    [RpcMethod(OneWay = true, TimeToLiveMilliseconds = 4000)]
    Task ExpiringAsync(int id);

    /// <summary>Always throws.</summary>
    [RpcMethod(OneWay = true)]
    Task FailAsync(int id);

    /// <summary>Throws the first <paramref name="failures"/> times it sees <paramref name="id"/>, then succeeds.</summary>
    [RpcMethod(OneWay = true)]
    Task FlakyAsync(int id, int failures);

    /// <summary>A reply of <paramref name="size"/> characters.</summary>
    Task<string> BigAsync(int size);

    /// <summary>A stream of <paramref name="count"/> items of <paramref name="size"/> characters each.</summary>
    IAsyncEnumerable<string> BigItemsAsync(int count, int size, CancellationToken cancellationToken = default);

    /// <summary>A stream of one small item, then one of <paramref name="size"/> characters.</summary>
    IAsyncEnumerable<string> SmallThenBigAsync(int size, CancellationToken cancellationToken = default);

    Task<int> EchoAsync(int value);
}

/// <summary>Records every run with its context and time; <see cref="Gate"/>, when set, holds each run until it opens.</summary>
public sealed class FailingWork : IFailingWork
{
    private readonly ConcurrentDictionary<int, int> _seen = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentQueue<FailingRun> Runs { get; } = new();

    public TaskCompletionSource? Gate { get; set; }

    public IEnumerable<FailingRun> RunsOf(string method) => Runs.Where(r => r.Method == method);

    public Task ExpiringAsync(int id) => Fail("Expiring", id);

    public Task FailAsync(int id) => Fail("Fail", id);

    public async Task FlakyAsync(int id, int failures)
    {
        Record("Flaky", id);
        if (Gate is { } gate) await gate.Task;
        if (_seen.AddOrUpdate(id, 1, (_, n) => n + 1) <= failures) throw new InvalidOperationException($"flaky {id} fails");
    }

    public Task<string> BigAsync(int size)
    {
        Record("Big", size);
        return Task.FromResult(new string('x', size));
    }

    public async IAsyncEnumerable<string> BigItemsAsync(int count, int size,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Record("BigItems", size);
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new string('x', size);
        }
    }

    public async IAsyncEnumerable<string> SmallThenBigAsync(int size,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Record("SmallThenBig", size);
        yield return "small";
        // Not ready at once: the small item goes out in a message of its own first.
        await Task.Delay(10, cancellationToken);
        yield return new string('x', size);
    }

    public Task<int> EchoAsync(int value) => Task.FromResult(value);

    private async Task Fail(string method, int id)
    {
        Record(method, id);
        if (Gate is { } gate) await gate.Task;
        throw new InvalidOperationException($"{method} {id} always fails");
    }

    private void Record(string method, int id) => Runs.Enqueue(new FailingRun(method, id, _clock.Elapsed, RpcContext.Current!));
}

public sealed record FailingRun(string Method, int Id, TimeSpan At, RpcContext Context);
