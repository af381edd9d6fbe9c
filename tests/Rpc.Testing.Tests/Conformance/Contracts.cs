namespace RpcGen.Testing.Tests.Conformance;

/// <summary>A declared fault: it reaches the caller as itself, with its properties.</summary>
public sealed class InsufficientFundsException(string message, int balance) : Exception(message)
{
    public int Balance { get; } = balance;
}

[RpcService(Queue = "conformance.calc")]
public interface ICalc
{
    Task<int> AddAsync(int a, int b);

    [RpcFault(typeof(InsufficientFundsException))]
    Task<int> WithdrawAsync(int amount);

    /// <summary>Throws an exception the contract does not declare.</summary>
    Task<int> BreakAsync();

    /// <summary>What the handler knows of its caller: user id and whether the request came again.</summary>
    Task<string> WhoAmIAsync();

    /// <summary>Waits until its token fires (the caller's timeout, cancel or deadline).</summary>
    Task<int> WaitAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<int> CountAsync(int count, CancellationToken cancellationToken);

    /// <summary>Yields one item, then nothing until its token fires.</summary>
    IAsyncEnumerable<int> StallAsync(CancellationToken cancellationToken);
}

[RpcService(Queue = "conformance.work")]
public interface IWork
{
    [RpcMethod(OneWay = true)]
    Task DoAsync(string item);
}

[RpcService(Queue = "conformance.ordered", Ordered = true)]
public interface IOrderedWork
{
    [RpcMethod(OneWay = true)]
    Task StepAsync(int step);
}

[RpcEvents(Exchange = "conformance.topic", Type = RpcExchangeType.Topic)]
public interface ITopicEvents
{
    Task HappenedAsync([RpcRoutingKey] string routingKey, string what);
}

[RpcEvents(Exchange = "conformance.fanout", Type = RpcExchangeType.Fanout)]
public interface IFanoutEvents
{
    Task HappenedAsync(string what);
}

[RpcEvents(Exchange = "conformance.direct", Type = RpcExchangeType.Direct)]
public interface IDirectEvents
{
    Task HappenedAsync([RpcRoutingKey] string routingKey, string what);
}
