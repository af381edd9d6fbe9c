using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>
/// One virtual host of an in-memory RabbitMQ: exchanges, queues, bindings, routing, deliveries with prefetch, acks,
/// requeues, dead-lettering, TTLs, direct reply-to. Everything happens under one lock; consumers are called from their
/// channel's dispatcher, never on the publisher's stack.
/// </summary>
internal sealed class InMemoryBroker
{
    public const string DirectReplyTo = "amq.rabbitmq.reply-to";
    private const string DirectReplyPrefix = DirectReplyTo + ".";
    private readonly Dictionary<string, MemoryExchange> _exchanges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemoryQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemoryChannel> _replyChannels = new(StringComparer.Ordinal);
    private long _generated;

    public InMemoryBroker(TimeProvider time, IBrokerObserver? observer)
    {
        Time = time;
        Observer = observer;
        foreach (var (name, type) in new[] { ("", "direct"), ("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"), ("amq.headers", "headers"), ("amq.match", "headers") })
        {
            _exchanges[name] = new MemoryExchange(name, type, durable: true, autoDelete: false, arguments: null);
        }
    }

    public object Gate { get; } = new();

    public TimeProvider Time { get; }

    public IBrokerObserver? Observer { get; }

    /// <summary>Simulation: replies to direct reply-to dropped from now on, one each.</summary>
    public int RepliesToDrop { get; set; }

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    public void DeclareExchange(string name, string type, bool durable, bool autoDelete, IDictionary<string, object?>? arguments)
    {
        lock (Gate)
        {
            if (_exchanges.TryGetValue(name, out var existing))
            {
                if (existing.Type != type) throw BrokerException.PreconditionFailed($"inequivalent arg 'type' for exchange '{name}' in vhost '/': received '{type}' but current is '{existing.Type}'");
                if (existing.Durable != durable) throw BrokerException.PreconditionFailed($"inequivalent arg 'durable' for exchange '{name}' in vhost '/': received '{Bool(durable)}' but current is '{Bool(existing.Durable)}'");
                return;
            }

            if (name.StartsWith("amq.", StringComparison.Ordinal))
            {
                throw new BrokerException(Constants.AccessRefused, $"ACCESS_REFUSED - exchange name '{name}' contains reserved prefix 'amq.*'");
            }

            _exchanges[name] = new MemoryExchange(name, type, durable, autoDelete, arguments);
        }
    }

    public void FindExchange(string name)
    {
        lock (Gate)
        {
            if (!_exchanges.ContainsKey(name)) throw BrokerException.NotFound($"no exchange '{name}' in vhost '/'");
        }
    }

    public void DeleteExchange(string name)
    {
        lock (Gate) _exchanges.Remove(name);
    }

    public QueueDeclareOk DeclareQueue(MemoryConnection connection, string name, bool durable, bool exclusive, bool autoDelete, IDictionary<string, object?>? arguments)
    {
        lock (Gate)
        {
            if (name.Length == 0) name = "amq.gen-" + Interlocked.Increment(ref _generated).ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..12];
            if (_queues.TryGetValue(name, out var existing))
            {
                CheckOwner(existing, connection);
                if (existing.Durable != durable) throw Inequivalent(name, "durable", Bool(durable), Bool(existing.Durable));
                if (existing.Exclusive != exclusive) throw Inequivalent(name, "exclusive", Bool(exclusive), Bool(existing.Exclusive));
                if (existing.AutoDelete != autoDelete) throw Inequivalent(name, "auto_delete", Bool(autoDelete), Bool(existing.AutoDelete));
                CheckArguments(existing, arguments);
                Expire(existing);
                return new QueueDeclareOk(name, (uint)existing.Ready.Count, existing.ConsumerCount);
            }

            if (name.StartsWith("amq.", StringComparison.Ordinal) && !name.StartsWith("amq.gen-", StringComparison.Ordinal))
            {
                throw new BrokerException(Constants.AccessRefused, $"ACCESS_REFUSED - queue name '{name}' contains reserved prefix 'amq.*'");
            }

            var queue = new MemoryQueue(name, durable, exclusive, autoDelete, arguments, exclusive ? connection : null);
            _queues[name] = queue;
            // Every queue is bound to the default exchange by its name.
            return new QueueDeclareOk(name, 0, 0);
        }
    }

    public QueueDeclareOk FindQueue(MemoryConnection connection, string name)
    {
        lock (Gate)
        {
            var queue = QueueOrThrow(name);
            CheckOwner(queue, connection);
            Expire(queue);
            return new QueueDeclareOk(name, (uint)queue.Ready.Count, queue.ConsumerCount);
        }
    }

    public uint DeleteQueue(string name, bool ifUnused, bool ifEmpty)
    {
        lock (Gate)
        {
            if (!_queues.TryGetValue(name, out var queue)) return 0;
            if (ifUnused && queue.Consumers.Count > 0) throw BrokerException.PreconditionFailed($"queue '{name}' in vhost '/' in use");
            if (ifEmpty && queue.Ready.Count > 0) throw BrokerException.PreconditionFailed($"queue '{name}' in vhost '/' is not empty");
            return RemoveQueue(queue);
        }
    }

    public uint PurgeQueue(string name)
    {
        lock (Gate)
        {
            var queue = QueueOrThrow(name);
            uint count = (uint)queue.Ready.Count;
            queue.Ready.Clear();
            return count;
        }
    }

    public void Bind(string queueName, string exchangeName, string routingKey, IDictionary<string, object?>? arguments)
    {
        lock (Gate)
        {
            var queue = QueueOrThrow(queueName);
            if (!_exchanges.TryGetValue(exchangeName, out var exchange)) throw BrokerException.NotFound($"no exchange '{exchangeName}' in vhost '/'");
            if (exchangeName.Length == 0) throw new BrokerException(Constants.AccessRefused, $"ACCESS_REFUSED - operation not permitted on the default exchange");
            foreach (var binding in exchange.Bindings)
            {
                if (binding.Queue == queue.Name && binding.RoutingKey == routingKey && SameArguments(binding.Arguments, arguments)) return;
            }

            exchange.Bindings.Add(new MemoryBinding(queue.Name, routingKey, arguments is null ? null : new Dictionary<string, object?>(arguments, StringComparer.Ordinal)));
        }
    }

    public void Unbind(string queueName, string exchangeName, string routingKey, IDictionary<string, object?>? arguments)
    {
        lock (Gate)
        {
            if (_exchanges.TryGetValue(exchangeName, out var exchange))
            {
                exchange.Bindings.RemoveAll(b => b.Queue == queueName && b.RoutingKey == routingKey && SameArguments(b.Arguments, arguments));
            }
        }
    }

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
                if (_queues.ContainsKey(routingKey)) targets.Add(routingKey);
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

    /// <summary>The connection is gone: its exclusive queues go with it.</summary>
    public void ConnectionClosed(MemoryConnection connection)
    {
        lock (Gate)
        {
            foreach (var queue in new List<MemoryQueue>(_queues.Values))
            {
                if (queue.Owner == connection) RemoveQueue(queue);
            }
        }
    }

    /// <summary>Simulation switches on a queue (held, redeliver next); false when the queue does not exist (yet).</summary>
    public bool WithQueue(string name, Action<MemoryQueue> change)
    {
        lock (Gate)
        {
            if (!_queues.TryGetValue(name, out var queue)) return false;
            change(queue);
            Pump(queue);
            return true;
        }
    }

    /// <summary>The messages ready in <paramref name="name"/>, oldest first; empty when there is no such queue.</summary>
    public IReadOnlyList<MemoryMessage> Peek(string name)
    {
        lock (Gate)
        {
            if (!_queues.TryGetValue(name, out var queue)) return Array.Empty<MemoryMessage>();
            Expire(queue);
            return new List<MemoryMessage>(queue.Ready);
        }
    }

    public bool QueueExists(string name)
    {
        lock (Gate) return _queues.ContainsKey(name);
    }

    /// <summary>Expires what is due in every queue: a test calls this after moving a fake clock.</summary>
    public void ExpireAll()
    {
        lock (Gate)
        {
            foreach (var queue in new List<MemoryQueue>(_queues.Values)) Expire(queue);
        }
    }

    private bool DeliverReply(string token, BasicProperties properties, byte[] body)
    {
        if (!_replyChannels.TryGetValue(token, out var channel) || channel.ReplyConsumer is not { } consumer || !channel.IsOpen) return false;
        if (RepliesToDrop > 0)
        {
            RepliesToDrop--;
            return true;
        }

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

    private uint RemoveQueue(MemoryQueue queue)
    {
        _queues.Remove(queue.Name);
        foreach (var exchange in _exchanges.Values) exchange.Bindings.RemoveAll(b => b.Queue == queue.Name);
        foreach (var consumer in queue.Consumers)
        {
            // The consumer-cancel notification (consumer_cancel_notify), as RabbitMQ sends when a consumed queue is deleted.
            consumer.Channel.Consumers.Remove(consumer.Tag);
            var tag = consumer.Tag;
            consumer.Channel.Dispatch(() => consumer.Consumer.HandleBasicCancelAsync(tag));
        }

        queue.Consumers.Clear();
        uint count = (uint)queue.Ready.Count;
        queue.Ready.Clear();
        return count;
    }

    private MemoryQueue QueueOrThrow(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw BrokerException.NotFound($"no queue '{name}' in vhost '/'");

    private static void CheckOwner(MemoryQueue queue, MemoryConnection connection)
    {
        if (queue.Owner is { } owner && owner != connection)
        {
            throw BrokerException.ResourceLocked($"cannot obtain exclusive access to locked queue '{queue.Name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.");
        }
    }

    private static readonly string[] s_comparedArguments =
    {
        "x-queue-type", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-delivery-limit", "x-max-length",
        "x-message-ttl", "x-single-active-consumer", "x-expires", "x-overflow", "x-max-priority",
    };

    private static void CheckArguments(MemoryQueue existing, IDictionary<string, object?>? arguments)
    {
        foreach (var name in s_comparedArguments)
        {
            object? given = arguments is not null && arguments.TryGetValue(name, out var value) ? value : null;
            string? current = HeadersMatcher.Text(existing.Argument(name));
            string? received = HeadersMatcher.Text(given);
            // A classic queue is one declared without a type.
            if (name == "x-queue-type") (current, received) = (current ?? "classic", received ?? "classic");
            if (current != received)
            {
                throw Inequivalent(existing.Name, name, received ?? "none", current ?? "none");
            }
        }
    }

    private static BrokerException Inequivalent(string queue, string argument, string received, string current) =>
        BrokerException.PreconditionFailed($"inequivalent arg '{argument}' for queue '{queue}' in vhost '/': received '{received}' but current is '{current}'");

    private static bool SameArguments(IDictionary<string, object?>? a, IDictionary<string, object?>? b)
    {
        int countA = a?.Count ?? 0, countB = b?.Count ?? 0;
        if (countA != countB) return false;
        if (countA == 0) return true;
        foreach (var (key, value) in a!)
        {
            if (!b!.TryGetValue(key, out var other) || HeadersMatcher.Text(value) != HeadersMatcher.Text(other)) return false;
        }

        return true;
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

    private static string Bool(bool value) => value ? "true" : "false";
}
