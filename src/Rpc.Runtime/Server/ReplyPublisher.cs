using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// Publishes one server's replies, and keeps what it knows of the broker's max_message_size. RabbitMQ closes the
/// channel of a publisher whose message is over that limit; on the request's channel that would give the request back,
/// run it again and refuse the same reply, every time. So a message over the limit the server knows is not sent, and
/// one larger than the broker is known to take goes out on the server's confirmed channel, where a refusal costs that
/// channel only and names the limit.
/// </summary>
internal sealed class ReplyPublisher : IReplyPublisher
{
    private const string AmqDirect = "amq.direct";

    private readonly ConfirmedChannel _confirmed;
    private readonly RpcSettings _options;
    private readonly string _service;
    private readonly Func<string> _queue;

    /// <param name="confirmed">The server's confirmed channel, for replies the broker may refuse.</param>
    /// <param name="options">The server's options (reply size limits, the confirm bound, logging).</param>
    /// <param name="service">The service, for logs and messages.</param>
    /// <param name="queue">The queue served now, for logs (a subscription's server-named queue may be renamed).</param>
    public ReplyPublisher(ConfirmedChannel confirmed, RpcSettings options, string service, Func<string> queue)
    {
        _confirmed = confirmed;
        _options = options;
        _service = service;
        _queue = queue;
    }

    /// <summary>What this server knows of the broker's max_message_size (shared by every reply path).</summary>
    public BrokerMessageLimit MessageLimit { get; } = new();

    public bool MayRefuse(int size) => MessageLimit.MayRefuse(size);

    public ValueTask PublishAsync(IChannel requestChannel, string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body) =>
        requestChannel.BasicPublishAsync(WireContract.DefaultExchange, replyTo, mandatory: false, properties, body);

    public async ValueTask<bool> TryPublishAsync(IChannel requestChannel, string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body,
        bool ordered = false)
    {
        if (MessageLimit.Known is { } limit && body.Length > limit) return false;
        if (!MessageLimit.MayRefuse(body.Length))
        {
            await requestChannel.BasicPublishAsync(WireContract.DefaultExchange, replyTo, mandatory: false, properties, body).ConfigureAwait(false);
            return true;
        }

        // The broker keeps order per channel only. It answers a synchronous method on the request's channel after it
        // has handed on every message published there before, so a message confirmed on another channel after that
        // answer is queued behind them. (A passive declare of amq.direct: always there, and it needs no permission.)
        if (ordered) await requestChannel.ExchangeDeclarePassiveAsync(AmqDirect).ConfigureAwait(false);
        try
        {
            await _confirmed.PublishAsync(WireContract.DefaultExchange, replyTo, properties, body, _options.DefaultTimeout, mandatory: false)
                .ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException e) when (MessageLimit.TryLearn(e.ShutdownReason?.ReplyText))
        {
            return false;
        }
        catch (Exception e) when (RpcServer.IsChannelGone(e) || e is TimeoutException or PublishException)
        {
            // Lost with the connection, or not confirmed in time: counts as sent, as a reply on a lost channel (the caller times out).
            return true;
        }
    }

    /// <summary>
    /// The reply's size against the server's <see cref="RpcConnectionOptions.MaxMessageSize"/> and the broker's known limit: the
    /// error owed instead of a reply that cannot be sent, or null when it may go.
    /// </summary>
    public CallFailure? Check(string? correlationId, string method, int size)
    {
        if (size > _options.MaxMessageSize)
        {
            return CallFailure.Refused(WireContract.ErrorTypes.TooLarge,
                $"The reply of {_service}.{method} is {size} bytes, larger than the server's RpcConnectionOptions.MaxMessageSize ({_options.MaxMessageSize}); it was not sent.");
        }

        return MessageLimit.Known is { } brokerLimit && size > brokerLimit ? TooLarge(correlationId, method, size) : null;
    }

    /// <summary>
    /// Publishes a lone reply or error reply on <paramref name="requestChannel"/>, the one the request came on: a request
    /// delivered by a rebuilt channel before the holder swapped it in would otherwise be answered on the closed one, and
    /// its reply lost while it is acked. A result the broker refuses as too large is answered <c>rpc:too-large</c> instead
    /// (the request ran once and is acked either way).
    /// </summary>
    public async Task ReplyAsync(IChannel requestChannel, IReadOnlyBasicProperties request, string? method, bool isError, PooledBufferWriter result)
    {
        try
        {
            if (!isError && MessageLimit.MayRefuse(result.WrittenCount))
            {
                var properties = new BasicProperties { CorrelationId = request.CorrelationId, ContentType = WireContract.JsonContentType };
                if (await TryPublishAsync(requestChannel, request.ReplyTo!, properties, result.WrittenMemory).ConfigureAwait(false)) return;
                var refused = TooLarge(request.CorrelationId, method ?? "?", result.WrittenCount);
                result.Clear();
                ErrorBody.Write(result, refused.Type, refused.Message, null);
                isError = true;
            }

            // Not mandatory: a caller that is gone (direct reply-to) is the broker's to drop, not ours to retry.
            await requestChannel.BasicPublishAsync(WireContract.DefaultExchange, request.ReplyTo!, mandatory: false,
                ReplyProperties(request.CorrelationId, isError), result.WrittenMemory).ConfigureAwait(false);
        }
        catch (Exception e) when (RpcServer.IsChannelGone(e))
        {
            // The request went with its channel: the broker redelivers it.
        }
    }

    /// <summary>
    /// Only an error says so: a reply without the header is a success (as from a plain server), and a success without a
    /// header table is less for this server, the broker and the caller to encode and decode.
    /// </summary>
    private static BasicProperties ReplyProperties(string? correlationId, bool isError) => new()
    {
        CorrelationId = correlationId,
        ContentType = WireContract.JsonContentType,
        Headers = isError ? new Dictionary<string, object?>(1) { [WireContract.StatusHeader] = WireContract.StatusError } : null,
    };

    public CallFailure TooLarge(string? correlationId, string method, int size)
    {
        long brokerLimit = MessageLimit.Known ?? 0;
        try
        {
            Diagnostics.RpcLog.ReplyRefusedAsTooLarge(_options.Loggers.Server, _service, method, _queue(), correlationId, size, brokerLimit,
                _options.MaxMessageSize);
        }
        catch (Exception)
        {
            // A log provider that throws must not cost the caller its answer.
        }

        return CallFailure.Refused(WireContract.ErrorTypes.TooLarge,
            $"The reply of {_service}.{method} is {size} bytes, larger than the broker's max_message_size ({brokerLimit} bytes); it was not sent. " +
            $"Keep RpcConnectionOptions.MaxMessageSize ({_options.MaxMessageSize}) at or below the broker's limit.");
    }
}
