using System;
using System.Collections.Generic;
using System.Threading.Channels;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Tells a service's servers that a caller gave up on a call (its token fired or its timeout passed), so the server
/// running it cancels the handler's token and one that has not started it yet never runs it. One control message per
/// abandoned call to the service's fanout exchange <c>rpc-control.{queue}</c> (docs/wire-format.md, "Cancelling a call").
/// A streamed result's credit grants take the same path and the same loop (message <c>type</c> <c>credit</c>), so a
/// grant never overtakes the cancel of its own stream.
/// </summary>
/// <remarks>
/// Cancels go through a queue to one sender loop with a channel of its own: the caller's cancellation callback and the
/// timeout sweep never wait on the broker, and a publish to an exchange that vanished (a channel error) cannot take
/// the call channel down with it. The exchange is declared once per channel, with the servers' arguments, so a cancel
/// to a service no server has bound yet is still accepted. A cancel is best effort: lost with the connection, it
/// leaves the server to the call's deadline.
/// </remarks>
internal sealed class CancellationSender
{
    private static readonly ReadOnlyMemory<byte> s_empty = ReadOnlyMemory<byte>.Empty;

    private readonly IConnection _connection;
    private readonly Channel<(PendingCall Call, long Credit)> _queue = Channel.CreateUnbounded<(PendingCall, long)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private IChannel? _channel;
    private long _sent;

    public CancellationSender(IConnection connection)
    {
        _connection = connection;
        _loop = Task.Run(SendLoopAsync);
    }

    /// <summary>Cancel messages published so far.</summary>
    public long Sent => System.Threading.Interlocked.Read(ref _sent);

    public void Send(PendingCall call) => _queue.Writer.TryWrite((call, -1));

    /// <summary>A streamed result's credit: the server may send the items below <paramref name="credit"/>.</summary>
    public void SendCredit(PendingCall call, long credit) => _queue.Writer.TryWrite((call, credit));

    private async Task SendLoopAsync()
    {
        await foreach (var (call, credit) in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await PublishAsync(call, credit).ConfigureAwait(false);
                if (credit < 0) System.Threading.Interlocked.Increment(ref _sent);
            }
            catch (Exception)
            {
                // Connection down or exchange refused: this cancel is lost (the deadline still ends the server's work);
                // the next one opens a fresh channel.
                _channel?.Dispose();
                _channel = null;
                _declared.Clear();
            }
        }
    }

    private async Task PublishAsync(PendingCall call, long credit)
    {
        if (_channel is { IsClosed: true } closed)
        {
            closed.Dispose();
            _channel = null;
            _declared.Clear();
        }

        _channel ??= await _connection.CreateChannelAsync().ConfigureAwait(false);
        var exchange = WireContract.ControlExchangeFor(call.Queue);
        if (!_declared.Contains(exchange))
        {
            await ControlExchange.DeclareAsync(_channel, exchange).ConfigureAwait(false);
            _declared.Add(exchange);
        }

        var properties = new BasicProperties
        {
            Type = credit < 0 ? WireContract.CancelMessageType : StreamContract.CreditMessageType,
            CorrelationId = call.CorrelationId,
            UserId = call.UserId,
            Headers = credit < 0
                ? new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline }
                : new Dictionary<string, object?>(1) { [StreamContract.CreditHeader] = credit },
        };
        await _channel.BasicPublishAsync(exchange, string.Empty, mandatory: false, properties, s_empty).ConfigureAwait(false);
    }

    public async ValueTask CloseAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_channel is null) return;
        try
        {
            await _channel.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already gone with the connection.
        }

        _channel.Dispose();
    }
}
