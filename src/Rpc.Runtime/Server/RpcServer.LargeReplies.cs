using System;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Wire;

namespace RpcGen;

// Replies the broker may refuse as too large. RabbitMQ closes the channel of a publisher whose message is over its
// max_message_size; on the request's channel that would give the request back, run it again and refuse the same reply,
// every time. Such a reply goes out on the server's confirmed channel instead, where a refusal costs that channel only
// and names the broker's limit.
public sealed partial class RpcServer
{
    /// <summary>
    /// Publishes a reply larger than the broker is known to accept, confirmed. Refused as too large, the caller gets an
    /// <c>rpc:too-large</c> error reply on the request's channel instead (the request ran once and is acked either way).
    /// </summary>
    private async Task AnswerLargeAsync(IChannel requestChannel, IReadOnlyBasicProperties request, string method, PooledBufferWriter result)
    {
        var properties = new BasicProperties { CorrelationId = request.CorrelationId, ContentType = WireContract.JsonContentType };
        try
        {
            // Not mandatory, as every reply: a caller that is gone is the broker's to drop.
            await _confirmed.PublishAsync(WireContract.DefaultExchange, request.ReplyTo!, properties, result.WrittenMemory, _options.DefaultTimeout,
                mandatory: false).ConfigureAwait(false);
            return;
        }
        catch (OperationInterruptedException e) when (_messageLimit.TryLearn(e.ShutdownReason?.ReplyText))
        {
        }
        catch (Exception e) when (IsChannelGone(e) || e is TimeoutException or PublishException)
        {
            // Lost with the connection, or not confirmed in time: as a reply on a lost channel, the caller times out.
            return;
        }

        var refused = ReplyOverBrokerLimit(request, method, result.WrittenCount, _messageLimit.Known ?? 0);
        result.Clear();
        ErrorBody.Write(result, refused.Type, refused.Message, null);
        await PublishReplyAsync(requestChannel, request.ReplyTo!, request.CorrelationId, isError: true, result.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>The error reply for a reply over the broker's limit, logged once per reply.</summary>
    private ErrorReply ReplyOverBrokerLimit(IReadOnlyBasicProperties request, string method, int size, long brokerLimit)
    {
        try
        {
            Diagnostics.RpcLog.ReplyRefusedAsTooLarge(_options.Loggers.Server, _service.Name, method, _queue, request.CorrelationId, size, brokerLimit,
                _options.MaxMessageSize);
        }
        catch (Exception)
        {
            // A log provider that throws must not cost the caller its answer.
        }

        return new ErrorReply(WireContract.ErrorTypes.TooLarge,
            $"The reply of {_service.Name}.{method} is {size} bytes, larger than the broker's max_message_size ({brokerLimit} bytes); it was not sent. " +
            $"Keep RpcOptions.MaxMessageSize ({_options.MaxMessageSize}) at or below the broker's limit.");
    }
}
