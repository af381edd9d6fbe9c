using System;
using System.Collections.Generic;

namespace RpcGen.Testing.Broker;

/// <summary>An exchange and its bindings to queues.</summary>
internal sealed class MemoryExchange
{
    public MemoryExchange(string name, string type, bool durable, bool autoDelete, IDictionary<string, object?>? arguments)
    {
        Name = name;
        Type = type;
        Durable = durable;
        AutoDelete = autoDelete;
        Arguments = arguments;
    }

    public string Name { get; }

    public string Type { get; }

    public bool Durable { get; }

    public bool AutoDelete { get; }

    public IDictionary<string, object?>? Arguments { get; }

    public List<MemoryBinding> Bindings { get; } = new();

    /// <summary>The queues a message with <paramref name="routingKey"/> and <paramref name="headers"/> goes to, each once.</summary>
    public void Route(string routingKey, IDictionary<string, object?>? headers, HashSet<string> queues)
    {
        foreach (var binding in Bindings)
        {
            bool matches = Type switch
            {
                "fanout" => true,
                "topic" => TopicMatcher.Matches(binding.RoutingKey, routingKey),
                "headers" => HeadersMatcher.Matches(binding.Arguments, headers),
                _ => string.Equals(binding.RoutingKey, routingKey, StringComparison.Ordinal),
            };
            if (matches) queues.Add(binding.Queue);
        }
    }
}

/// <summary>A queue bound to an exchange with a routing key (and, for a headers exchange, arguments).</summary>
internal sealed record MemoryBinding(string Queue, string RoutingKey, IDictionary<string, object?>? Arguments);
