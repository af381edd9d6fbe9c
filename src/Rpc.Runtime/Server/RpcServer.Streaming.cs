using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Server;
using RpcGen.Wire;

namespace RpcGen;

// What a streamed result (Server/StreamWriter.cs) needs of its server: the channel to publish on and the error rules.
public sealed partial class RpcServer
{
    internal RpcSettings Options => _options;

    /// <summary>One message of a stream to the caller's reply_to, on the channel the request came on, like a reply (not mandatory).</summary>
    internal static ValueTask PublishStreamMessageAsync(IChannel channel, string replyTo, string? correlationId, string kind, long sequence, bool isError, ReadOnlyMemory<byte> body) =>
        channel.BasicPublishAsync(WireContract.DefaultExchange, replyTo, mandatory: false, StreamProperties(correlationId, kind, sequence, isError), body);

    /// <summary>The properties of one message of a stream: its kind and the sequence number of its first item.</summary>
    internal static BasicProperties StreamProperties(string? correlationId, string kind, long sequence, bool isError)
    {
        var headers = new Dictionary<string, object?>(3)
        {
            [StreamContract.KindHeader] = kind,
            [StreamContract.SequenceHeader] = sequence,
        };
        if (isError) headers[WireContract.StatusHeader] = WireContract.StatusError;
        return new BasicProperties
        {
            CorrelationId = correlationId,
            ContentType = WireContract.JsonContentType,
            Headers = headers,
        };
    }

    /// <summary>The error marker's body: a declared fault with its data, else the exception's type and message, as an error reply would carry.</summary>
    internal void WriteStreamError(PooledBufferWriter body, RpcMethodDescriptor method, Exception failure)
    {
        if (failure is StreamAbandonedException)
        {
            ErrorBody.Write(body, StreamContract.AbandonedErrorType, failure.Message, null);
            return;
        }

        if (TryWriteDeclaredFault(body, method, failure, telemetry: null)) return;
        var (type, message) = Classify(failure);
        ErrorBody.Write(body, type, message, _options.IncludeExceptionDetails && IsRetryable(failure) ? failure.ToString() : null);
    }
}
