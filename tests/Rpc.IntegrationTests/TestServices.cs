using System.Collections.Concurrent;

namespace RpcGen.IntegrationTests;

public sealed record Point(int X, int Y);

[RpcService(Queue = "calc")]
public interface ICalculator
{
    Task<int> AddAsync(int a, int b);

    [RpcMethod("sum")]
    ValueTask<double> SumAsync(double[] values);

    Task ResetAsync();

    ValueTask PingAsync();

    Task<string?> EchoAsync(string? text);

    Task<Point> MoveAsync(Point point, int dx, int dy);

    Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default);

    Task FailAsync(string message);

    Task<int> CountResetsAsync();
}

/// <summary>The same queue as <see cref="ICalculator"/> with a method the server does not have: a client built against a newer contract.</summary>
[RpcService(Queue = "calc")]
public interface ICalculatorV2
{
    Task<int> MultiplyAsync(int a, int b);
}

/// <summary>The test implementation; tests that count or hold one method override just that one.</summary>
public class Calculator : ICalculator
{
    private int _resets;

    public ConcurrentBag<int> SlowCallsFinished { get; } = new();

    public virtual Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public virtual ValueTask<double> SumAsync(double[] values) => new(values.Sum());

    public virtual Task ResetAsync()
    {
        Interlocked.Increment(ref _resets);
        return Task.CompletedTask;
    }

    public virtual ValueTask PingAsync() => ValueTask.CompletedTask;

    public virtual Task<string?> EchoAsync(string? text) => Task.FromResult(text);

    public virtual Task<Point> MoveAsync(Point point, int dx, int dy) => Task.FromResult(new Point(point.X + dx, point.Y + dy));

    public virtual async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
    {
        await Task.Delay(milliseconds, CancellationToken.None);
        SlowCallsFinished.Add(milliseconds);
        return milliseconds;
    }

    public virtual Task FailAsync(string message) => throw new InvalidOperationException(message);

    public virtual Task<int> CountResetsAsync() => Task.FromResult(Volatile.Read(ref _resets));
}
