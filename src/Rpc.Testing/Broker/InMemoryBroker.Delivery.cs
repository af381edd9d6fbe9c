using System;
using System.Collections.Generic;
using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>Consumers, deliveries under prefetch, settlement, requeues, dead letters and expiry.</summary>
internal sealed partial class InMemoryBroker
{
    public string Consume(MemoryChannel channel, string queueName, string tag, bool autoAck, bool exclusive, IAsyncBasicConsumer consumer)
    {
        lock (Gate)
        {
            if (tag.Length == 0) tag = "amq.ctag-" + Guid.NewGuid().ToString("N");
            if (queueName == DirectReplyTo)
            {
                if (!autoAck) throw BrokerException.PreconditionFailed("reply consumer cannot acknowledge");
                channel.ReplyConsumer = new MemoryConsumer(tag, channel, null!, autoAck: true, prefetch: 0, consumer);
                channel.ReplyToken = Guid.NewGuid().ToString("N");
                _replyChannels[channel.ReplyToken] = channel;
                channel.Dispatch(() => consumer.HandleBasicConsumeOkAsync(tag));
                return tag;
            }

            var queue = QueueOrThrow(queueName);
            CheckOwner(queue, channel.Connection);
            if (exclusive && queue.Consumers.Count > 0) throw new BrokerException(Constants.AccessRefused, $"ACCESS_REFUSED - queue '{queueName}' in vhost '/' in exclusive use");
            var memoryConsumer = new MemoryConsumer(tag, channel, queue, autoAck, channel.Prefetch, consumer);
            queue.Consumers.Add(memoryConsumer);
            channel.Consumers[tag] = memoryConsumer;
            channel.Dispatch(() => consumer.HandleBasicConsumeOkAsync(tag));
            Pump(queue);
            return tag;
        }
    }

    public void Cancel(MemoryChannel channel, string tag)
    {
        lock (Gate)
        {
            if (channel.ReplyConsumer is { } reply && reply.Tag == tag)
            {
                channel.ReplyConsumer = null;
                if (channel.ReplyToken is { } token) _replyChannels.Remove(token);
                channel.Dispatch(() => reply.Consumer.HandleBasicCancelOkAsync(tag));
                return;
            }

            if (!channel.Consumers.Remove(tag, out var consumer)) return;
            consumer.Queue.Consumers.Remove(consumer);
            channel.Dispatch(() => consumer.Consumer.HandleBasicCancelOkAsync(tag));
            if (consumer.Queue.AutoDelete && consumer.Queue.Consumers.Count == 0) RemoveQueue(consumer.Queue);
            else Pump(consumer.Queue);
        }
    }

    public BasicGetResult? Get(MemoryChannel channel, string queueName, bool autoAck)
    {
        lock (Gate)
        {
            var queue = QueueOrThrow(queueName);
            Expire(queue);
            if (queue.Ready.First is not { } first) return null;
            var message = first.Value;
            queue.Ready.RemoveFirst();
            ulong tag = channel.NextDeliveryTag();
            if (!autoAck) channel.Unacked[tag] = new MemoryUnacked(message, queue, null);
            Observer?.Delivered(queue.Name, message.Exchange, message.Properties, message.Redelivered);
            return new BasicGetResult(tag, message.Redelivered, message.Exchange, message.RoutingKey, (uint)queue.Ready.Count, DeliveryProperties(queue, message), message.Body);
        }
    }

    /// <summary>Acks, nacks or rejects; <paramref name="requeue"/> null for an ack.</summary>
    public void Settle(MemoryChannel channel, ulong deliveryTag, bool multiple, bool? requeue)
    {
        lock (Gate)
        {
            var settled = new List<ulong>();
            if (multiple)
            {
                foreach (var tag in channel.Unacked.Keys)
                {
                    if (tag <= deliveryTag) settled.Add(tag);
                }
            }
            else if (channel.Unacked.ContainsKey(deliveryTag))
            {
                settled.Add(deliveryTag);
            }
            else
            {
                throw BrokerException.PreconditionFailed($"unknown delivery tag {deliveryTag}");
            }

            var touched = new HashSet<MemoryQueue>();
            foreach (var tag in settled)
            {
                channel.Unacked.Remove(tag, out var unacked);
                if (unacked!.Consumer is { } consumer) consumer.Unacked--;
                Observer?.Settled(unacked.Queue.Name, unacked.Message.Properties, requeue);
                if (requeue == true) Return(unacked.Queue, unacked.Message);
                else if (requeue == false) DeadLetter(unacked.Queue, unacked.Message, "rejected");
                touched.Add(unacked.Queue);
            }

            foreach (var queue in touched) Pump(queue);
        }
    }

    /// <summary>The channel is gone: its unsettled deliveries go back to their queues, redelivered, and its consumers with it.</summary>
    public void ChannelClosed(MemoryChannel channel)
    {
        lock (Gate)
        {
            if (channel.ReplyToken is { } token) _replyChannels.Remove(token);
            channel.ReplyConsumer = null;
            var touched = new HashSet<MemoryQueue>();
            foreach (var consumer in channel.Consumers.Values)
            {
                consumer.Queue.Consumers.Remove(consumer);
                touched.Add(consumer.Queue);
            }

            channel.Consumers.Clear();
            foreach (var unacked in channel.Unacked.Values)
            {
                Return(unacked.Queue, unacked.Message);
                touched.Add(unacked.Queue);
            }

            channel.Unacked.Clear();
            foreach (var queue in touched)
            {
                if (queue.AutoDelete && queue.Consumers.Count == 0 && _queues.ContainsKey(queue.Name)) RemoveQueue(queue);
                else Pump(queue);
            }
        }
    }

    /// <summary>Expires what is due in every queue: a test calls this after moving a fake clock.</summary>
    public void ExpireAll()
    {
        lock (Gate)
        {
            foreach (var queue in new List<MemoryQueue>(_queues.Values)) Expire(queue);
        }
    }

    /// <summary>A delivery given back: to the head of its queue, redelivered; a quorum queue counts it against its delivery limit.</summary>
    private void Return(MemoryQueue queue, MemoryMessage message)
    {
        if (!_queues.ContainsKey(queue.Name)) return;
        message.Redelivered = true;
        if (queue.Quorum)
        {
            message.DeliveryCount++;
            if (queue.DeliveryLimit is { } limit && message.DeliveryCount > limit)
            {
                DeadLetter(queue, message, "delivery_limit");
                return;
            }
        }

        queue.Ready.AddFirst(message);
    }

    private void DeadLetter(MemoryQueue queue, MemoryMessage message, string reason)
    {
        if (queue.DeadLetterExchange is not { } exchangeName || !_exchanges.TryGetValue(exchangeName, out var exchange)) return;
        var headers = MemoryMessage.CopyHeaders(message.Properties.Headers) ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        var death = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["reason"] = Bytes(reason),
            ["queue"] = Bytes(queue.Name),
            ["exchange"] = Bytes(message.Exchange),
            ["routing-keys"] = new List<object?> { Bytes(message.RoutingKey) },
            ["count"] = 1L,
            ["time"] = new AmqpTimestamp(Now / 1000),
        };
        var deaths = headers.TryGetValue("x-death", out var earlier) && earlier is List<object?> list ? new List<object?>(list) : new List<object?>();
        deaths.Insert(0, death);
        headers["x-death"] = deaths;
        if (!headers.ContainsKey("x-first-death-reason"))
        {
            headers["x-first-death-reason"] = Bytes(reason);
            headers["x-first-death-queue"] = Bytes(queue.Name);
            headers["x-first-death-exchange"] = Bytes(message.Exchange);
        }

        headers.Remove("x-delivery-count");
        string routingKey = queue.DeadLetterRoutingKey ?? message.RoutingKey;
        var targets = new HashSet<string>(StringComparer.Ordinal);
        if (exchangeName.Length == 0)
        {
            if (_queues.ContainsKey(routingKey)) targets.Add(routingKey);
        }
        else
        {
            exchange.Route(routingKey, headers, targets);
        }

        foreach (var name in targets)
        {
            if (!_queues.TryGetValue(name, out var target) || target == queue) continue;
            var copy = message.CopyFor(message.Exchange, routingKey, Now, new Dictionary<string, object?>(headers, StringComparer.Ordinal));
            copy.Properties.ClearExpiration();
            Enqueue(target, copy);
            Pump(target);
        }
    }

    private void Expire(MemoryQueue queue)
    {
        long now = Now;
        while (queue.Ready.First is { } first && queue.ExpiresAt(first.Value) is { } at && at <= now)
        {
            queue.Ready.RemoveFirst();
            DeadLetter(queue, first.Value, "expired");
        }
    }

    private void Pump(MemoryQueue queue)
    {
        if (!_queues.ContainsKey(queue.Name)) return;
        Expire(queue);
        while (queue.Ready.First is { } first && queue.NextConsumer() is { } consumer)
        {
            var message = first.Value;
            queue.Ready.RemoveFirst();
            if (queue.ExpiresAt(message) is { } at && at <= Now)
            {
                DeadLetter(queue, message, "expired");
                continue;
            }

            bool redelivered = message.Redelivered;
            if (queue.RedeliverNext)
            {
                queue.RedeliverNext = false;
                redelivered = true;
            }

            var channel = consumer.Channel;
            ulong tag = channel.NextDeliveryTag();
            if (!consumer.AutoAck)
            {
                channel.Unacked[tag] = new MemoryUnacked(message, queue, consumer);
                consumer.Unacked++;
            }

            var properties = DeliveryProperties(queue, message);
            Observer?.Delivered(queue.Name, message.Exchange, properties, redelivered);
            var body = message.Body;
            string exchange = message.Exchange, routingKey = message.RoutingKey;
            channel.Dispatch(() => consumer.Consumer.HandleBasicDeliverAsync(consumer.Tag, tag, redelivered, exchange, routingKey, properties, body));
        }
    }

    /// <summary>The properties a consumer sees: a quorum queue adds x-delivery-count, 0 on the first delivery (as RabbitMQ 3.10 does).</summary>
    private static IReadOnlyBasicProperties DeliveryProperties(MemoryQueue queue, MemoryMessage message)
    {
        if (!queue.Quorum) return message.Properties;
        var headers = MemoryMessage.CopyHeaders(message.Properties.Headers) ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        headers["x-delivery-count"] = message.DeliveryCount;
        return new BasicProperties(message.Properties) { Headers = headers };
    }
}
