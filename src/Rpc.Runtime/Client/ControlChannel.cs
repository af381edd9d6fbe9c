using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// A <see cref="ControlLane"/>'s channel: confirmed publishes to <c>rpc-control.{queue}</c> on a lazy
/// <see cref="ManagedChannel"/>, opened on first use and again after a failure (with no server running the exchange may
/// not exist, and the broker closes the channel).
/// </summary>
internal sealed class ControlChannel : IControlChannel
{
    private static readonly ReadOnlyMemory<byte> s_empty = ReadOnlyMemory<byte>.Empty;

    private readonly ManagedChannel _channel;
    private readonly string? _userId;
    private IChannel? _last; // the lane's one sender loop is the only caller

    /// <param name="connection">The connection to open the channel on.</param>
    /// <param name="userId">Sent as <c>user_id</c>, so that servers can tell a cancel or grant comes from the caller; null when unknown.</param>
    /// <param name="purpose">The lane, in log messages.</param>
    public ControlChannel(IConnection connection, string? userId, string purpose)
    {
        _userId = userId;
        _channel = ManagedChannel.CreateLazy(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), purpose);
    }

    public async Task PublishAsync(PendingCall call, long credit)
    {
        var channel = _last = await _channel.ReadyAsync(CancellationToken.None).ConfigureAwait(false);
        var properties = new BasicProperties
        {
            Type = credit < 0 ? WireContract.CancelMessageType : StreamContract.CreditMessageType,
            CorrelationId = call.CorrelationId,
            UserId = _userId,
            // A cancel without a deadline (a stream without one) is remembered by the server for its default time.
            Headers = credit >= 0 ? new Dictionary<string, object?>(1) { [StreamContract.CreditHeader] = credit }
                : call.Deadline != 0 ? new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline }
                : null,
        };
        await channel.BasicPublishAsync(WireContract.ControlExchangeFor(call.Queue), string.Empty, mandatory: false, properties, s_empty)
            .ConfigureAwait(false);
    }

    /// <summary>Drops the channel without waiting on it: a stuck one may never answer a close.</summary>
    public void Abandon() => _channel.Abandon(_last);

    public ValueTask CloseAsync() => _channel.DisposeAsync();
}
