using System.Collections.Concurrent;
using System.Diagnostics;

namespace RpcGen.Ecosystem.Tests;

[RpcService(Queue = "calc")]
public interface IEcoCalculator
{
    Task<int> AddAsync(int a, int b);

    Task FailAsync(string message);

    /// <summary>Waits until the test opens <see cref="EcoCalculator.Gate"/>, so a call can be held in flight.</summary>
    Task<int> HoldAsync(int value);

    [RpcMethod(OneWay = true)]
    Task NotifyAsync(string text);
}

public sealed class EcoCalculator : IEcoCalculator
{
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The span that was current inside each handler call.</summary>
    public ConcurrentQueue<Activity?> HandlerActivities { get; } = new();

    public Task<int> AddAsync(int a, int b)
    {
        HandlerActivities.Enqueue(Activity.Current);
        return Task.FromResult(a + b);
    }

    public Task FailAsync(string message) => throw new InvalidOperationException(message);

    public async Task<int> HoldAsync(int value)
    {
        await Gate.Task;
        return value;
    }

    public Task NotifyAsync(string text) => Task.CompletedTask;
}

public sealed record ReservationReport(string Sku, int Quantity, Guid UnitOfWork, Guid AuditUnitOfWork, bool UnitOfWorkDisposedDuringCall);

[RpcService(Queue = "inventory")]
public interface IInventory
{
    Task<ReservationReport> ReserveAsync(string sku, int quantity);
}

/// <summary>Every unit of work the container created, to check scope lifetimes from outside.</summary>
public sealed class UnitOfWorkTracker
{
    public ConcurrentQueue<UnitOfWork> Created { get; } = new();
}

/// <summary>Scoped, like a DbContext: one per call, disposed when the call's scope ends.</summary>
public sealed class UnitOfWork : IDisposable
{
    public UnitOfWork(UnitOfWorkTracker tracker) => tracker.Created.Enqueue(this);

    public Guid Id { get; } = Guid.NewGuid();

    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}

/// <summary>Another scoped service that depends on the unit of work: it must see the same instance as the handler.</summary>
public sealed class AuditTrail(UnitOfWork unitOfWork)
{
    public UnitOfWork UnitOfWork { get; } = unitOfWork;
}

public sealed class Inventory(UnitOfWork unitOfWork, AuditTrail audit) : IInventory
{
    public async Task<ReservationReport> ReserveAsync(string sku, int quantity)
    {
        await Task.Yield();
        return new ReservationReport(sku, quantity, unitOfWork.Id, audit.UnitOfWork.Id, unitOfWork.Disposed);
    }
}

[RpcService(Queue = "greeter")]
public interface IGreeter
{
    Task<string> GreetAsync(string name);

    /// <summary>The caller's user as the server sees it (the request's user_id, which the broker vouches for).</summary>
    Task<string> CallerAsync();
}

public sealed class Greeter : IGreeter
{
    public Task<string> GreetAsync(string name) => Task.FromResult("hello " + name);

    public Task<string> CallerAsync() => Task.FromResult(RpcContext.Current?.UserId ?? "(no user_id)");
}
