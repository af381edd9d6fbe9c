using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// A <see cref="ControlLane"/>'s channel: confirmed publishes to <c>rpc-control.{queue}</c>, opened on first use and
/// again after a failure (with no server running the exchange may not exist, and the broker closes the channel).
/// </summary>
internal sealed class ControlChannel : IControlPublisher
{
    private static readonly ReadOnlyMemory<byte> s_empty = ReadOnlyMemory<byte>.Empty;

    private readonly IConnection _connection;
    private IChannel? _channel;

    public ControlChannel(IConnection connection) => _connection = connection;

    public async Task PublishAsync(PendingCall call, long credit)
    {
        if (_channel is { IsClosed: true }) Abandon();
        _channel ??= await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)).ConfigureAwait(false);
        var properties = new BasicProperties
        {
            Type = credit < 0 ? WireContract.CancelMessageType : StreamContract.CreditMessageType,
            CorrelationId = call.CorrelationId,
            UserId = call.UserId,
            Headers = credit < 0
                ? new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline }
                : new Dictionary<string, object?>(1) { [StreamContract.CreditHeader] = credit },
        };
        await _channel.BasicPublishAsync(WireContract.ControlExchangeFor(call.Queue), string.Empty, mandatory: false, properties, s_empty)
            .ConfigureAwait(false);
    }

    /// <summary>Drops the channel without waiting on it: a stuck one may never answer a close.</summary>
    public void Abandon()
    {
        var channel = _channel;
        _channel = null;
        if (channel is null) return;
        _ = CloseQuietlyAsync(channel);
    }

    public async ValueTask CloseAsync()
    {
        var channel = _channel;
        _channel = null;
        if (channel is not null) await CloseQuietlyAsync(channel).ConfigureAwait(false);
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen) await channel.CloseAsync().WaitAsync(CancellationSender.PublishTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already closed by the broker, or stuck: either way it is not used again.
        }

        try
        {
            channel.Dispose();
        }
        catch (Exception)
        {
        }
    }
}
