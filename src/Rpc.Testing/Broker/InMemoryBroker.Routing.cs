using System;
using System.Collections.Generic;
using System.Text;
using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>Publishing: routing through exchanges to queues, and direct reply-to, whose replies go straight to a channel's reply consumer.</summary>
internal sealed partial class InMemoryBroker
{
    private readonly Dictionary<string, MemoryChannel> _replyChannels = new(StringComparer.Ordinal);

    /// <summary>Simulation: replies dropped from now on, one each: to direct reply-to, or through the default exchange to a queue a request named as its <c>reply_to</c>.</summary>
    public int RepliesToDrop { get; set; }

    /// <summary>Routes a published message; returns how many queues (or reply consumers) took it. Called under no lock.</summary>
    public int Publish(MemoryChannel channel, string exchangeName, string routingKey, IReadOnlyBasicProperties published, ReadOnlyMemory<byte> body)
    {
        var properties = new BasicProperties(published) { Headers = AsBroker(published.Headers) };
        if (properties.UserId is { } userId && userId != channel.Connection.UserName)
        {
            throw BrokerException.PreconditionFailed($"user_id property set to '{userId}' but authenticated user was '{channel.Connection.UserName}'");
        }

        lock (Gate)
        {
            if (properties.ReplyTo == DirectReplyTo)
            {
                if (channel.ReplyToken is not { } token) throw BrokerException.PreconditionFailed("fast reply consumer does not exist");
                properties.ReplyTo = DirectReplyPrefix + token;
            }
            else if (properties.ReplyTo is { } replyTo && _queues.TryGetValue(replyTo, out var replyQueue))
            {
                replyQueue.NamedAsReplyTo = true;
            }

            if (!_exchanges.TryGetValue(exchangeName, out var exchange)) throw BrokerException.NotFound($"no exchange '{exchangeName}' in vhost '/'");
            byte[] copy = body.ToArray();
            int routed;
            if (exchangeName.Length == 0 && routingKey.StartsWith(DirectReplyPrefix, StringComparison.Ordinal))
            {
                routed = DeliverReply(routingKey.Substring(DirectReplyPrefix.Length), properties, copy) ? 1 : 0;
                Observer?.Published(exchangeName, routingKey, properties, routed);
                return routed;
            }

            var targets = new HashSet<string>(StringComparer.Ordinal);
            if (exchangeName.Length == 0)
            {
                if (_queues.TryGetValue(routingKey, out var direct) && direct.NamedAsReplyTo && TryDropReply())
                {
                    Observer?.Published(exchangeName, routingKey, properties, 1);
                    return 1;
                }

                if (direct is not null) targets.Add(routingKey);
            }
            else
            {
                exchange.Route(routingKey, properties.Headers, targets);
            }

            routed = 0;
            foreach (var name in targets)
            {
                if (!_queues.TryGetValue(name, out var queue)) continue;
                var message = routed == 0
                    ? new MemoryMessage(exchangeName, routingKey, properties, copy, Now)
                    : new MemoryMessage(exchangeName, routingKey, new BasicProperties(properties) { Headers = MemoryMessage.CopyHeaders(properties.Headers) }, copy, Now);
                routed++;
                Enqueue(queue, message);
            }

            Observer?.Published(exchangeName, routingKey, properties, routed);
            foreach (var name in targets)
            {
                if (_queues.TryGetValue(name, out var queue)) Pump(queue);
            }

            return routed;
        }
    }

    /// <summary>Takes one reply off <see cref="RepliesToDrop"/>, when one is still to be dropped (under the gate).</summary>
    private bool TryDropReply()
    {
        if (RepliesToDrop == 0) return false;
        RepliesToDrop--;
        return true;
    }

    private bool DeliverReply(string token, BasicProperties properties, byte[] body)
    {
        if (!_replyChannels.TryGetValue(token, out var channel) || channel.ReplyConsumer is not { } consumer || !channel.IsOpen) return false;
        if (TryDropReply()) return true;

        ulong tag = channel.NextDeliveryTag();
        channel.Dispatch(() => consumer.Consumer.HandleBasicDeliverAsync(consumer.Tag, tag, false, string.Empty, DirectReplyPrefix + token, properties, body));
        return true;
    }

    private void Enqueue(MemoryQueue queue, MemoryMessage message)
    {
        queue.Ready.AddLast(message);
        Observer?.Enqueued(queue.Name, message.Properties);
        if (queue.MaxLength is { } max)
        {
            while (queue.Ready.Count > max)
            {
                var head = queue.Ready.First!.Value;
                queue.Ready.RemoveFirst();
                DeadLetter(queue, head, "maxlen");
            }
        }
    }

    /// <summary>Headers as a consumer gets them from RabbitMQ: strings arrive as UTF-8 bytes (AMQP long strings).</summary>
    private static IDictionary<string, object?>? AsBroker(IDictionary<string, object?>? headers)
    {
        if (headers is null) return null;
        var copy = new Dictionary<string, object?>(headers.Count, StringComparer.Ordinal);
        foreach (var (key, value) in headers) copy[key] = AsBrokerValue(value);
        return copy;
    }

    private static object? AsBrokerValue(object? value) => value switch
    {
        string text => Bytes(text),
        IDictionary<string, object?> table => AsBroker(table),
        IList<object?> list => ListAsBroker(list),
        _ => value,
    };

    private static List<object?> ListAsBroker(IList<object?> list)
    {
        var copy = new List<object?>(list.Count);
        foreach (var item in list) copy.Add(AsBrokerValue(item));
        return copy;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
