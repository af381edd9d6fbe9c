using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RabbitMQ.Client;
using RpcGen.Cli.Commands;

namespace RpcGen.Cli.Broker;

/// <summary>One message fetched from a dead-letter queue, and what its headers say about how it got there.</summary>
internal sealed class DeadLetter
{
    public required ulong DeliveryTag { get; init; }

    /// <summary>Its message_id (RpcGen gives every one-way request and event one), else its position.</summary>
    public required string Id { get; init; }

    public required IReadOnlyBasicProperties Properties { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The queue it failed in, where a replay puts it back.</summary>
    public required string SourceQueue { get; init; }

    public string Method => Properties.Type ?? "?";

    public string? ErrorType => Header("rpc-error-type");

    public string? ErrorMessage => Header("rpc-error-message");

    public string? Header(string name) =>
        Properties.Headers is { } headers && headers.TryGetValue(name, out var value) && value is not null ? TailCommand.HeaderText(value) : null;

    public static DeadLetter From(BasicGetResult got, string deadLetterQueue, int position)
    {
        var properties = got.BasicProperties;
        return new DeadLetter
        {
            DeliveryTag = got.DeliveryTag,
            Id = string.IsNullOrEmpty(properties.MessageId) ? "#" + position : properties.MessageId,
            Properties = properties,
            Body = got.Body.ToArray(),
            SourceQueue = SourceOf(properties, deadLetterQueue),
        };
    }

    /// <summary>rpc-queue (RpcGen's own dead letters), else the broker's x-death (a quorum queue's), else the name.</summary>
    private static string SourceOf(IReadOnlyBasicProperties properties, string deadLetterQueue)
    {
        var headers = properties.Headers;
        if (headers is not null && headers.TryGetValue("rpc-queue", out var queue) && queue is byte[] name) return Encoding.UTF8.GetString(name);
        if (headers is not null && headers.TryGetValue("x-death", out var deaths) && deaths is IList<object> list &&
            list.FirstOrDefault() is IDictionary<string, object?> first && first.TryGetValue("queue", out var died) && died is byte[] diedIn)
        {
            return Encoding.UTF8.GetString(diedIn);
        }

        return deadLetterQueue.EndsWith(DeadLetterQueue.Suffix, StringComparison.Ordinal) ? deadLetterQueue[..^DeadLetterQueue.Suffix.Length] : deadLetterQueue;
    }
}
