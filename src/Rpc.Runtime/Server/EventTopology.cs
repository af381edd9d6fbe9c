using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Transport;

namespace RpcGen.Server;

/// <summary>
/// A subscription's queue and bindings: the exchange (declared as publishers declare it), a named durable queue
/// shared by its group or an exclusive server-named one, and a binding per key (one empty binding on fanout).
/// </summary>
internal static class EventTopology
{
    /// <summary>Declares everything; returns the queue to consume, and the name its dead-letter queue is made from.</summary>
    public static async Task<(string Queue, string DeadLetterFor)> DeclareAsync(IChannel channel, RpcOptions options, RpcServiceDescriptor events,
        RpcSubscription subscription, CancellationToken cancellationToken)
    {
        var exchange = options.ExchangeFor(events);
        await ExchangeDeclarations.DeclareAsync(channel, events, exchange, cancellationToken).ConfigureAwait(false);

        string queue;
        string deadLetterFor;
        if (string.IsNullOrEmpty(subscription.Queue))
        {
            // Gone with the subscription's channel; its failures are kept per exchange, since a server-named queue
            // (amq.gen-…) cannot have a companion of a name the broker reserves.
            queue = (await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true,
                cancellationToken: cancellationToken).ConfigureAwait(false)).QueueName;
            deadLetterFor = exchange;
        }
        else
        {
            queue = options.QueuePrefix + subscription.Queue;
            await QueueDeclarations.DeclareDurableAsync(channel, options, queue, events.Name + " subscription", cancellationToken).ConfigureAwait(false);
            deadLetterFor = queue;
        }

        foreach (var key in BindingKeys(events, subscription))
        {
            await channel.QueueBindAsync(queue, exchange, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return (queue, deadLetterFor);
    }

    private static IEnumerable<string> BindingKeys(RpcServiceDescriptor events, RpcSubscription subscription)
    {
        if (events.ExchangeType == RpcExchangeType.Fanout)
        {
            yield return string.Empty;
            yield break;
        }

        if (subscription.Bindings.Count > 0)
        {
            foreach (var key in subscription.Bindings) yield return key;
            yield break;
        }

        if (events.ExchangeType == RpcExchangeType.Topic)
        {
            yield return "#";
            yield break;
        }

        foreach (var method in events.Methods) yield return method.WireName;
    }
}
