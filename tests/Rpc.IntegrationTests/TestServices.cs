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

public sealed class Calculator : ICalculator
{
    private int _resets;

    public ConcurrentBag<int> SlowCallsFinished { get; } = new();

    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public ValueTask<double> SumAsync(double[] values) => new(values.Sum());

    public Task ResetAsync()
    {
        Interlocked.Increment(ref _resets);
        return Task.CompletedTask;
    }

    public ValueTask PingAsync() => ValueTask.CompletedTask;

    public Task<string?> EchoAsync(string? text) => Task.FromResult(text);

    public Task<Point> MoveAsync(Point point, int dx, int dy) => Task.FromResult(new Point(point.X + dx, point.Y + dy));

    public async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
    {
        await Task.Delay(milliseconds, CancellationToken.None);
        SlowCallsFinished.Add(milliseconds);
        return milliseconds;
    }

    public Task FailAsync(string message) => throw new InvalidOperationException(message);

    public Task<int> CountResetsAsync() => Task.FromResult(Volatile.Read(ref _resets));
}
