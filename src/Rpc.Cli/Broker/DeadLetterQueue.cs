using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Cli.Broker;

/// <summary>
/// A dead-letter queue opened for browsing: its messages are fetched unacknowledged, so whatever is not acked here
/// (every message on list and show; the ones not chosen on replay and purge) goes back to the queue when the channel
/// closes, and nothing is lost if rpcgen dies half way. A replay acks a message only after the broker confirmed its
/// copy on the source queue.
/// </summary>
internal sealed class DeadLetterQueue : IAsyncDisposable
{
    public const string Suffix = ".dead-letter";

    private readonly IChannel _browse;
    private readonly IConnection _connection;
    private IChannel? _publish;

    private DeadLetterQueue(IConnection connection, IChannel browse, string name, uint waiting)
    {
        _connection = connection;
        _browse = browse;
        Name = name;
        Waiting = waiting;
    }

    public string Name { get; }

    /// <summary>How many messages it held when opened.</summary>
    public uint Waiting { get; }

    /// <summary>QUEUE.dead-letter, or QUEUE itself when it already ends so.</summary>
    public static string NameFor(string queue) => queue.EndsWith(Suffix, StringComparison.Ordinal) ? queue : queue + Suffix;

    public static async Task<DeadLetterQueue> OpenAsync(IConnection connection, string name, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(name, cancellationToken);
            return new DeadLetterQueue(connection, channel, name, declared.MessageCount);
        }
        catch (OperationInterruptedException)
        {
            channel.Dispose();
            throw new CliException(ExitCodes.Usage, $"no queue '{name}': nothing was dead-lettered there yet, or the name is wrong.");
        }
    }

    /// <summary>Every message that was waiting, held unacknowledged; at most <paramref name="limit"/>.</summary>
    public async Task<List<DeadLetter>> FetchAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        while (letters.Count < Math.Min(limit, (int)Math.Min(Waiting, int.MaxValue)))
        {
            var got = await _browse.BasicGetAsync(Name, autoAck: false, cancellationToken);
            if (got is null) break;
            letters.Add(DeadLetter.From(got, Name, letters.Count + 1));
        }

        return letters;
    }

    /// <summary>Publishes a copy to its source queue, waits for the broker's confirm, then removes the original.</summary>
    public async Task ReplayAsync(DeadLetter letter, string replayedBy, CancellationToken cancellationToken)
    {
        _publish ??= await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        var properties = ReplayProperties(letter, replayedBy);
        try
        {
            // Mandatory: a source queue that is gone returns the copy, and the original stays where it is.
            await _publish.BasicPublishAsync(string.Empty, letter.SourceQueue, mandatory: true, properties, letter.Body, cancellationToken);
        }
        catch (PublishException e)
        {
            throw new CliException(ExitCodes.Failed, e.IsReturn
                ? $"queue '{letter.SourceQueue}' does not exist: {letter.Id} stays in {Name}."
                : $"the broker refused the copy of {letter.Id}: it stays in {Name}.");
        }

        await _browse.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken);
    }

    public Task PurgeAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        _browse.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken).AsTask();

    /// <summary>
    /// The copy a replay publishes: the original's properties and headers, without rpc-retries (its retries start
    /// again) and the broker's x-death, with rpc-replayed-at and rpc-replayed-by added. RpcGen's rpc-error-type stays:
    /// it is what tells the server this delivery is a replay, which it counts in rpc-replays.
    /// </summary>
    private static BasicProperties ReplayProperties(DeadLetter letter, string replayedBy)
    {
        var original = letter.Properties;
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (original.Headers is { } kept)
        {
            foreach (var (key, value) in kept)
            {
                if (key is "rpc-retries" or "x-death" or "x-dotnet-pub-seq-no" || key.StartsWith("x-first-death-", StringComparison.Ordinal) ||
                    key.StartsWith("x-last-death-", StringComparison.Ordinal))
                {
                    continue;
                }

                headers[key] = value;
            }
        }

        headers["rpc-replayed-at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        headers["rpc-replayed-by"] = replayedBy;
        return new BasicProperties
        {
            ContentType = original.ContentType,
            ContentEncoding = original.ContentEncoding,
            Type = original.Type,
            MessageId = original.MessageId,
            CorrelationId = original.CorrelationId,
            Timestamp = original.Timestamp,
            AppId = original.AppId,
            // RabbitMQ refuses a user_id other than the publishing connection's: kept only when rpcgen connects as that user.
            UserId = original.UserId == replayedBy ? original.UserId : null,
            Persistent = true,
            Headers = headers,
        };
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the browsing channel puts every message it did not ack back into the queue.
        try
        {
            await _browse.CloseAsync();
            if (_publish is not null) await _publish.CloseAsync();
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException)
        {
            // The connection went: the broker requeues the unacked messages by itself.
        }

        _browse.Dispose();
        _publish?.Dispose();
    }
}
