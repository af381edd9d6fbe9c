// Shape: [RpcEvents] interfaces on the three exchange types, with and without a [RpcRoutingKey] parameter.
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Events;

internal sealed record OrderPlaced(int Id, string Item);

/// <summary>Topic exchange: the routing key is a parameter; an event without one is routed by its wire name.</summary>
[RpcEvents(Exchange = "orders", Type = RpcExchangeType.Topic)]
internal interface IOrderEvents
{
    Task OrderPlacedAsync([RpcRoutingKey] string region, OrderPlaced order, CancellationToken cancellationToken = default);

    [RpcMethod("order-cancelled")]
    ValueTask OrderCancelledAsync(int id);
}

/// <summary>The pika tutorials' fanout exchange: every subscriber gets every message.</summary>
[RpcEvents(Exchange = "logs", Type = RpcExchangeType.Fanout)]
internal interface ILogs
{
    Task LogAsync(string message);
}

/// <summary>The pika tutorials' direct exchange: routed by severity.</summary>
[RpcEvents(Exchange = "direct_logs", Type = RpcExchangeType.Direct)]
internal interface IDirectLogs
{
    Task LogAsync([RpcRoutingKey] string severity, string message);
}

/// <summary>The pika tutorials' topic exchange: routed by pattern.</summary>
[RpcEvents(Exchange = "topic_logs", Type = RpcExchangeType.Topic)]
internal interface ITopicLogs
{
    Task LogAsync([RpcRoutingKey] string key, string message);
}
