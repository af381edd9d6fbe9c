using System;
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
    /// <summary>
    /// Declares everything on a short-lived channel before the subscriber's server exists, so the server's channel
    /// holder consumes a fixed queue; a refused declaration closes only that channel.
    /// </summary>
    public static async Task<(string Queue, string DeadLetterFor)> DeclareOnOwnChannelAsync(IConnection connection, RpcSettings options,
        RpcEventsDescriptor events, RpcSubscription subscription, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            var declared = await DeclareAsync(connection, channel, options, events, subscription, cancellationToken).ConfigureAwait(false);
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
            return declared;
        }
        finally
        {
            channel.Dispose();
        }
    }

    /// <summary>A named subscription's topology again, on a rebuilt server channel (every declaration is idempotent).</summary>
    public static Task DeclareNamedAsync(IConnection connection, IChannel channel, RpcSettings options, RpcEventsDescriptor events,
        RpcSubscription subscription, CancellationToken cancellationToken) => DeclareAsync(connection, channel, options, events, subscription, cancellationToken);

    /// <summary>
    /// Deletes a stopped subscriber's exclusive queue: not auto-delete (a broker-closed server channel would take it
    /// with its consumer, before the rebuilt channel could consume it again), so it goes here, or with the connection.
    /// </summary>
    public static async Task DeleteQuietlyAsync(IConnection connection, string queue)
    {
        if (!connection.IsOpen) return;
        try
        {
            var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
            try
            {
                await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false).ConfigureAwait(false);
                await channel.CloseAsync().ConfigureAwait(false);
            }
            finally
            {
                channel.Dispose();
            }
        }
        catch (Exception)
        {
            // The connection went meanwhile: the broker deletes an exclusive queue with its connection anyway.
        }
    }

    /// <summary>Declares everything; returns the queue to consume, and the name its dead-letter queue is made from.</summary>
    public static async Task<(string Queue, string DeadLetterFor)> DeclareAsync(IConnection connection, IChannel channel, RpcSettings options,
        RpcEventsDescriptor events, RpcSubscription subscription, CancellationToken cancellationToken)
    {
        // On a channel of its own, so a subscriber without configure on the exchange falls back to finding it.
        var exchange = options.ExchangeFor(events);
        await ExchangeDeclarations.DeclareOrFindAsync(connection, options, events, exchange, cancellationToken).ConfigureAwait(false);

        string queue;
        string deadLetterFor;
        if (string.IsNullOrEmpty(subscription.Queue))
        {
            // Gone when the subscriber stops or its connection closes; its failures are kept per exchange, since a
            // server-named queue (amq.gen-…) cannot have a companion of a name the broker reserves.
            queue = (await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: false,
                cancellationToken: cancellationToken).ConfigureAwait(false)).QueueName;
            deadLetterFor = exchange;
        }
        else
        {
            queue = options.QueuePrefix + subscription.Queue;
            await QueueDeclarations.DeclareDurableAsync(channel, options, queue, events.Name + " subscription", cancellationToken,
                topology: TopologyOf(options, subscription, queue)).ConfigureAwait(false);
            deadLetterFor = queue;
        }

        foreach (var key in BindingKeys(events, subscription, TopologyOf(options, subscription, queue).Mode == RpcTopologyMode.UseExisting))
        {
            await channel.QueueBindAsync(queue, exchange, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return (queue, deadLetterFor);
    }

    /// <summary>A named subscription queue's topology: the subscription's own, else the options' entry for the queue.</summary>
    private static RpcQueueTopology TopologyOf(RpcSettings options, RpcSubscription subscription, string queue) =>
        string.IsNullOrEmpty(subscription.Queue) ? RpcQueueTopology.Declare : subscription.QueueTopology ?? QueueDeclarations.TopologyOf(options, queue);

    /// <summary>
    /// The keys to bind. A queue used as it exists keeps the bindings it has: only those the subscription lists are
    /// added, never the defaults, which could flood it with events its owner never bound.
    /// </summary>
    private static IEnumerable<string> BindingKeys(RpcEventsDescriptor events, RpcSubscription subscription, bool existingQueue)
    {
        if (existingQueue && (subscription.Bindings.Count == 0 || events.ExchangeType == RpcExchangeType.Fanout)) yield break;
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
