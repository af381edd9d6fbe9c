using System;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen;

// Replies the broker may refuse as too large: a lone reply, a streamed result's message, a batch of replies. RabbitMQ
// closes the channel of a publisher whose message is over its max_message_size; on the request's channel that would
// give the request back, run it again and refuse the same reply, every time. Every reply path publishes through
// TryPublishReplyAsync: a message over the limit the server knows is not sent, and one larger than the broker is known
// to take goes out on the server's confirmed channel, where a refusal costs that channel only and names the limit.
public sealed partial class RpcServer
{
    private const string AmqDirect = "amq.direct";

    /// <summary>What this server knows of the broker's max_message_size (shared by every reply path).</summary>
    internal BrokerMessageLimit MessageLimit => _messageLimit;

    /// <summary>
    /// Publishes one reply message to <paramref name="replyTo"/> (not mandatory, as every reply: a caller that is gone
    /// is the broker's to drop). False when it is over the broker's max_message_size, known before or learnt from this
    /// refusal: nothing was sent, and the caller is owed an <c>rpc:too-large</c> error instead. A message lost with the
    /// connection, or not confirmed in time, counts as sent: as a reply on a lost channel, the caller times out.
    /// A message <paramref name="ordered"/> behind others already published on the request's channel (a stream's later
    /// messages) waits for a round trip on that channel before it takes the confirmed one.
    /// </summary>
    internal async ValueTask<bool> TryPublishReplyAsync(IChannel requestChannel, string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body,
        bool ordered = false)
    {
        if (_messageLimit.Known is { } limit && body.Length > limit) return false;
        if (!_messageLimit.MayRefuse(body.Length))
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
        catch (OperationInterruptedException e) when (_messageLimit.TryLearn(e.ShutdownReason?.ReplyText))
        {
            return false;
        }
        catch (Exception e) when (IsChannelGone(e) || e is TimeoutException or PublishException)
        {
            return true;
        }
    }

    /// <summary>
    /// Publishes a lone reply that the broker may refuse as too large. Refused, the caller gets an <c>rpc:too-large</c>
    /// error reply on the request's channel instead (the request ran once and is acked either way).
    /// </summary>
    private async Task AnswerLargeAsync(IChannel requestChannel, IReadOnlyBasicProperties request, string method, PooledBufferWriter result)
    {
        var properties = new BasicProperties { CorrelationId = request.CorrelationId, ContentType = WireContract.JsonContentType };
        try
        {
            if (await TryPublishReplyAsync(requestChannel, request.ReplyTo!, properties, result.WrittenMemory).ConfigureAwait(false)) return;
        }
        catch (Exception e) when (IsChannelGone(e))
        {
            // The request went with its channel: the broker redelivers it.
            return;
        }

        var refused = ReplyOverBrokerLimit(request.CorrelationId, method, result.WrittenCount, _messageLimit.Known ?? 0);
        result.Clear();
        ErrorBody.Write(result, refused.Type, refused.Message, null);
        await PublishReplyAsync(requestChannel, request.ReplyTo!, request.CorrelationId, isError: true, result.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>The error for a reply message over the broker's limit, logged once per reply.</summary>
    internal ErrorReply ReplyOverBrokerLimit(string? correlationId, string method, int size, long brokerLimit)
    {
        try
        {
            Diagnostics.RpcLog.ReplyRefusedAsTooLarge(_options.Loggers.Server, _service.Name, method, _queue, correlationId, size, brokerLimit,
                _options.MaxMessageSize);
        }
        catch (Exception)
        {
            // A log provider that throws must not cost the caller its answer.
        }

        return new ErrorReply(WireContract.ErrorTypes.TooLarge,
            $"The reply of {_service.Name}.{method} is {size} bytes, larger than the broker's max_message_size ({brokerLimit} bytes); it was not sent. " +
            $"Keep RpcConnectionOptions.MaxMessageSize ({_options.MaxMessageSize}) at or below the broker's limit.");
    }
}
