using System.Collections.Concurrent;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>The contract of the plain pika server fib_server.py: RpcGen calls a server it did not write.</summary>
[RpcService(Queue = "tutorial-fib")]
public interface ITutorialFibonacci
{
    Task<long> FibAsync(int n);
}

/// <summary>A service with a one-way method, for fail-fast and delivery of fire-and-forget calls.</summary>
[RpcService(Queue = "audit")]
public interface IAuditTrail
{
    [RpcMethod(OneWay = true)]
    Task RecordAsync(string entry);

    Task<int> CountAsync();
}

public sealed class AuditTrail : IAuditTrail
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public Task RecordAsync(string entry)
    {
        Entries.Enqueue(entry);
        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(Entries.Count);
}

/// <summary>Methods that make the server produce the error replies of docs/wire-format.md that need a handler.</summary>
[RpcService(Queue = "errors")]
public interface IErrorShowcase
{
    Task<Unwritable> UnwritableAsync();

    Task<int> ThrowAsync(string message);
}

public sealed class Unwritable
{
    public int Value => throw new InvalidOperationException("this value cannot be read");
}

public sealed class ErrorShowcase : IErrorShowcase
{
    public Task<Unwritable> UnwritableAsync() => Task.FromResult(new Unwritable());

    public Task<int> ThrowAsync(string message) => throw new KeyNotFoundException(message);
}
