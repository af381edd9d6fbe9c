using System;
using System.ComponentModel;

namespace RpcGen;

/// <summary>
/// What the generator knows about one <see cref="RpcEventsAttribute"/> interface: its name, exchange and events. Built
/// by generated code. Its <see cref="RpcServiceDescriptor.Queue"/> is the interface's name and is not where events are
/// consumed from: each subscription brings its own queue (<see cref="RpcSubscription.Queue"/>).
/// </summary>
public sealed class RpcEventsDescriptor : RpcServiceDescriptor
{
    /// <summary>Creates a descriptor; generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RpcEventsDescriptor(string name, string exchange, RpcExchangeType exchangeType, params RpcMethodDescriptor[] events)
        : base(name, name, events)
    {
        Exchange = exchange ?? throw new ArgumentNullException(nameof(exchange));
        ExchangeType = exchangeType;
    }

    /// <summary>The exchange the events are published to, without <see cref="RpcConnectionOptions.QueuePrefix"/>.</summary>
    public string Exchange { get; }

    /// <summary>How the exchange routes.</summary>
    public RpcExchangeType ExchangeType { get; }
}
