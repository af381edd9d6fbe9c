// Shape: timeouts per service and per method, and declared faults ([RpcFault]) on a method and on the service:
// the descriptor carries the timeouts and a fault descriptor per exception type, which writes the exception's
// properties into the error reply and builds it again from them. The semantics tests serve this contract.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Faults;

/// <summary>A business exception of the contract, with the properties a caller needs to react.</summary>
internal sealed class OutOfStockException : Exception
{
    public OutOfStockException(string sku, int requested, int available)
        : base($"Only {available} of {sku} left; {requested} requested.")
    {
        Sku = sku;
        Requested = requested;
        Available = available;
    }

    public string Sku { get; }
    public int Requested { get; }
    public int Available { get; }
}

/// <summary>Declared on the whole service: any method may refuse a caller.</summary>
internal sealed class NotAllowedException : Exception
{
    public NotAllowedException(string message) : base(message)
    {
    }

    public string? User { get; init; }
}

[RpcService(Queue = "shop", TimeoutMilliseconds = 5000)]
[RpcFault(typeof(NotAllowedException))]
internal interface IShop
{
    [RpcFault(typeof(OutOfStockException))]
    Task<int> ReserveAsync(string sku, int quantity);

    /// <summary>Waits on its token up to <paramref name="milliseconds"/>; 400 ms method timeout.</summary>
    [RpcMethod(TimeoutMilliseconds = 400)]
    Task<int> HoldAsync(int milliseconds, CancellationToken cancellationToken = default);

    /// <summary>Waits on its token, with the service's 5 s timeout.</summary>
    Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default);

    Task<string?> HeaderAsync(string name);

    Task BreakAsync();
}
