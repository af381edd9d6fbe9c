using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// One server's end of its service's control path: an exclusive, auto-delete, server-named queue bound to the fanout
/// exchange <c>rpc-control.{queue}</c>, so every server of the service hears every control message (a caller cannot
/// know which server took its request). It hands each cancel to <see cref="RunningCalls"/>. It has a channel of its own:
/// on the request channel a cancel would wait in that channel's dispatcher behind the deliveries it is meant to stop,
/// and go with the channel when the broker closes it. A streamed result's credit travels the same way (message
/// <c>type</c> tells them apart).
/// </summary>
/// <remarks>
/// The channel lives in a <see cref="ManagedChannel"/> like the server's own: connection recovery restores it (queue,
/// binding and consumer, through topology recovery), and a channel the broker closes is rebuilt with a fresh queue.
/// Cancels published while the listener is down are lost; the call's deadline still ends the handler.
/// </remarks>
internal sealed class ControlListener
{
    private readonly RunningCalls _calls;
    private readonly string _exchange;
    private ManagedChannel _channel = null!;

    private ControlListener(RunningCalls calls, string exchange)
    {
        _calls = calls;
        _exchange = exchange;
    }

    public static async Task<ControlListener> StartAsync(IConnection connection, string serviceQueue, RunningCalls calls, ILogger logger,
        CancellationToken cancellationToken)
    {
        var listener = new ControlListener(calls, WireContract.ControlExchangeFor(serviceQueue));
        listener._channel = await ManagedChannel.CreateAsync(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false),
            listener.SetUpAsync, $"control channel of queue '{serviceQueue}'", logger, cancellationToken).ConfigureAwait(false);
        return listener;
    }

    /// <summary>The first channel and each rebuilt one: the exchange, a queue of its own bound to it, the consumer.</summary>
    private async Task SetUpAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await ControlExchange.DeclareAsync(channel, _exchange).ConfigureAwait(false);
        var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(queue.QueueName, _exchange, string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);
        // Acked, with a prefetch: a flood of control messages waits in the broker's queue, not in this process's memory.
        await channel.BasicQosAsync(0, Prefetch, global: false, cancellationToken).ConfigureAwait(false);
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: false, new Consumer(channel, _calls), cancellationToken).ConfigureAwait(false);
    }

    public ValueTask CloseAsync() => _channel.DisposeAsync();

    private const ushort Prefetch = 256;

    private sealed class Consumer : AsyncDefaultBasicConsumer
    {
        private readonly RunningCalls _calls;

        public Consumer(IChannel channel, RunningCalls calls) : base(channel) => _calls = calls;

        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        {
            // Anything else (a type a newer peer sends) is ignored: control messages are advisory.
            if (!string.IsNullOrEmpty(properties.CorrelationId))
            {
                if (properties.Type == WireContract.CancelMessageType)
                {
                    _calls.Cancel(properties.CorrelationId!, properties.UserId, WireContract.ReadDeadline(properties.Headers));
                }
                else if (properties.Type == StreamContract.CreditMessageType
                    && StreamContract.ReadInteger(properties.Headers, StreamContract.CreditHeader) is long credit)
                {
                    _calls.Grant(properties.CorrelationId!, properties.UserId, credit);
                }
            }

            return AckAsync(deliveryTag);
        }

        private async Task AckAsync(ulong deliveryTag)
        {
            try
            {
                await Channel.BasicAckAsync(deliveryTag, multiple: false).ConfigureAwait(false);
            }
            catch (Exception e) when (RpcServer.IsChannelGone(e))
            {
                // Gone with its channel: the holder rebuilds it with a fresh queue.
            }
        }
    }
}
