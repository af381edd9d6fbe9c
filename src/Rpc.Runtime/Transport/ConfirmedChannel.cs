using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>
/// A publisher-confirmed channel of a server's own (for the copies of failed work and for replies that may be over the
/// broker's message size limit), opened at first use and again after the broker closes it. Every publish is bounded:
/// the broker confirms it, refuses it, or the publish fails with <see cref="TimeoutException"/>. A confirm held back
/// (a memory or disk alarm blocks the connection, or a confirm is lost) would otherwise keep its delivery, and its
/// prefetch slot, forever.
/// </summary>
internal sealed class ConfirmedChannel : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;
    private int _generation;

    public ConfirmedChannel(IConnection connection) => _connection = connection;

    /// <summary>
    /// Publishes and waits for the confirm, all within <paramref name="timeout"/>. <paramref name="prepare"/> runs first
    /// on the channel (e.g. a declare) and is told whether the channel is new since its last call.
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
            Abandon(used);
            throw new TimeoutException($"The broker did not confirm a message to '{routingKey}' within {timeout.TotalSeconds:0.###} s " +
                "(a memory or disk alarm blocks this connection, or the confirm was lost).", e);
        }
    }

    private async Task PublishCoreAsync(string exchange, string routingKey, bool mandatory, BasicProperties properties, ReadOnlyMemory<byte> body,
        Func<IChannel, int, Task>? prepare, CancellationToken cancellationToken, Action<IChannel> opened)
    {
        var (channel, generation) = await ChannelAsync(cancellationToken).ConfigureAwait(false);
        opened(channel);
        if (prepare is not null) await prepare(channel, generation).ConfigureAwait(false);
        await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(IChannel Channel, int Generation)> ChannelAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is not { IsOpen: true })
            {
                _channel?.Dispose();
                _channel = null;
                _channel = await _connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null), cancellationToken).ConfigureAwait(false);
                _generation++;
            }

            return (_channel, _generation);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops <paramref name="channel"/> if it is still the current one; it is closed in the background, bounded.</summary>
    private void Abandon(IChannel? channel)
    {
        if (channel is null) return;
        if (Interlocked.CompareExchange(ref _channel, null, channel) != channel) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await channel.CloseAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Blocked or gone: disposing drops it either way.
            }

            channel.Dispose();
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_channel is null) return;
            try
            {
                await _channel.CloseAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (RpcServer.IsChannelGone(e) || e is TimeoutException)
            {
            }

            _channel.Dispose();
            _channel = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}
