using System;
using System.Collections.Generic;
using System.Threading;
using RabbitMQ.Client;

namespace RpcGen.Testing.Broker;

/// <summary>
/// One virtual host of an in-memory RabbitMQ. This part: its topology (exchanges, queues, bindings, declares and their
/// checks); publishing is in <c>InMemoryBroker.Routing.cs</c>, consumers and settlement in <c>InMemoryBroker.Delivery.cs</c>.
/// Everything happens under one lock (<see cref="Gate"/>); consumers are called from their channel's dispatcher, never
/// on the publisher's stack.
/// </summary>
internal sealed partial class InMemoryBroker
{
    public const string DirectReplyTo = "amq.rabbitmq.reply-to";
    private const string DirectReplyPrefix = DirectReplyTo + ".";
    private readonly Dictionary<string, MemoryExchange> _exchanges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemoryQueue> _queues = new(StringComparer.Ordinal);
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

    private static string Bool(bool value) => value ? "true" : "false";
}
