using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// One server's end of its service's control path: an exclusive, auto-delete, server-named queue bound to the fanout
/// exchange <c>rpc-control.{queue}</c>, so every server of the service hears every control message (a caller cannot
/// know which server took its request). It hands each cancel to <see cref="RunningCalls"/>. It has a channel of its own:
/// on the request channel a cancel would queue behind the very handlers it is meant to stop, as dispatch concurrency
/// equals prefetch. Streaming's credit and cancel messages are meant to reuse it (message <c>type</c> tells them apart).
/// </summary>
internal sealed class ControlListener : AsyncDefaultBasicConsumer
{
    private readonly RunningCalls _calls;

    private ControlListener(IChannel channel, RunningCalls calls) : base(channel) => _calls = calls;

    public static async Task<ControlListener> StartAsync(IConnection connection, string serviceQueue, RunningCalls calls, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            var exchange = WireContract.ControlExchangeFor(serviceQueue);
            await ControlExchange.DeclareAsync(channel, exchange).ConfigureAwait(false);
            var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueBindAsync(queue.QueueName, exchange, string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);
            var listener = new ControlListener(channel, calls);
            await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, listener, cancellationToken).ConfigureAwait(false);
            return listener;
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
        string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        // Anything else (a type a newer peer sends) is ignored: control messages are advisory.
        if (properties.Type == WireContract.CancelMessageType && !string.IsNullOrEmpty(properties.CorrelationId))
        {
            _calls.Cancel(properties.CorrelationId!, properties.UserId, WireContract.ReadDeadline(properties.Headers));
        }

        return Task.CompletedTask;
    }

    public async ValueTask CloseAsync()
    {
        try
        {
            await Channel.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (RpcServer.IsChannelGone(e))
        {
        }

        Channel.Dispose();
    }
}
