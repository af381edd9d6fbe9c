using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Server;

/// <summary>
/// The consumer of one server channel: hands each delivery to its <see cref="RpcServer"/> with what belongs to that
/// channel (its acknowledgements, and the token that fires when the broker closes it). A rebuilt channel gets a new one.
/// </summary>
internal sealed class RequestConsumer : AsyncDefaultBasicConsumer
{
    private readonly RpcServer _server;

    public RequestConsumer(RpcServer server, IChannel channel, Acknowledgements acks, CancellationTokenSource channelLost) : base(channel)
    {
        _server = server;
        Acks = acks;
        ChannelLost = channelLost;
    }

    /// <summary>Settles this channel's deliveries: tags are per channel.</summary>
    public Acknowledgements Acks { get; }

    /// <summary>Fires when the broker closes this channel, and when the server stops past its drain timeout.</summary>
    public CancellationTokenSource ChannelLost { get; }

    /// <summary>
    /// Whether the broker delivers to this consumer: set once basic.consume returned (its consume-ok callback may run a
    /// moment later) and again when recovery re-registers it; cleared when it is cancelled or its channel goes. Read by the health check.
    /// </summary>
    public bool IsConsuming
    {
        get => _consuming;
        set => _consuming = value;
    }

    private volatile bool _consuming;

    public override async Task HandleBasicConsumeOkAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicConsumeOkAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _consuming = true;
    }

    /// <summary>
    /// The broker cancelled this consumer on a channel that stays open: its queue was deleted. The server declares it
    /// again and consumes it with this consumer (the channel's delivery tags and acknowledgements carry on).
    /// </summary>
    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _server.ConsumerCancelledByBroker(this, consumerTag);
    }

    /// <summary>Cancelled by the broker (queue deleted), by the server, or gone with the channel.</summary>
    protected override async Task OnCancelAsync(string[] consumerTags, CancellationToken cancellationToken = default)
    {
        await base.OnCancelAsync(consumerTags, cancellationToken).ConfigureAwait(false);
        _consuming = false;
    }

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
        string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        _server.Dispatch(this, deliveryTag, redelivered, exchange, routingKey, properties, body);
        return Task.CompletedTask;
    }
}
