using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>
/// A publisher-confirmed channel of a server's own (for the copies of failed work and for replies that may be over the
/// broker's message size limit): a lazy <see cref="ManagedChannel"/>, opened at first use and again after the broker closes it. Every publish is bounded:
/// the broker confirms it, refuses it, or the publish fails with <see cref="TimeoutException"/>. A confirm held back
/// (a memory or disk alarm blocks the connection, or a confirm is lost) would otherwise keep its delivery, and its
/// prefetch slot, forever.
/// </summary>
internal sealed class ConfirmedChannel : IAsyncDisposable
{
    private readonly ManagedChannel _channel;

    public ConfirmedChannel(IConnection connection) =>
        _channel = ManagedChannel.CreateLazy(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: null), "confirmed channel");

    /// <summary>
    /// Publishes and waits for the confirm, all within <paramref name="timeout"/>. <paramref name="prepare"/> runs first
    /// on the channel (e.g. a declare) and is told which opening of the channel it is (<see cref="ManagedChannel.GenerationOf"/>).
    /// </summary>
    /// <exception cref="TimeoutException">Nothing was settled in time; the message may still reach its queue.</exception>
    /// <exception cref="PublishException">The broker nacked the message, or returned it (mandatory, unroutable).</exception>
    /// <exception cref="OperationInterruptedException">The broker closed the channel (its reason says why) or the connection is gone.</exception>
    public async Task PublishAsync(string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, TimeSpan timeout,
        Func<IChannel, int, Task>? prepare = null, bool mandatory = true)
    {
        using var expiry = new CancellationTokenSource(timeout);
        IChannel? used = null;
        try
        {
            var publish = PublishCoreAsync(exchange, routingKey, mandatory, properties, body, prepare, expiry.Token, channel => used = channel);
            // The token ends the wait for the confirm; WaitAsync also bounds what does not watch it (a channel.open or a
            // frame write held by a blocked connection).
            await publish.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && expiry.IsCancellationRequested))
        {
            // A channel that swallowed a confirm is not trusted again: the next publish opens a fresh one.
            _channel.Abandon(used);
            throw new TimeoutException($"The broker did not confirm a message to '{routingKey}' within {timeout.TotalSeconds:0.###} s " +
                "(a memory or disk alarm blocks this connection, or the confirm was lost).", e);
        }
    }

    private async Task PublishCoreAsync(string exchange, string routingKey, bool mandatory, BasicProperties properties, ReadOnlyMemory<byte> body,
        Func<IChannel, int, Task>? prepare, CancellationToken cancellationToken, Action<IChannel> opened)
    {
        var channel = await _channel.ReadyAsync(cancellationToken).ConfigureAwait(false);
        opened(channel);
        if (prepare is not null) await prepare(channel, _channel.GenerationOf(channel)).ConfigureAwait(false);
        await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
