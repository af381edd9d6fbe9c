using System;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Server;

/// <summary>
/// Sends messages to a caller's reply queue: lone replies, a batch's replies and a stream's messages. Every reply goes
/// out on the channel its request came on, unless the broker might refuse it as too large.
/// </summary>
internal interface IReplyPublisher
{
    /// <summary>Whether a message of <paramref name="size"/> bytes may be over the broker's max_message_size.</summary>
    bool MayRefuse(int size);

    /// <summary>Publishes a message small enough for any broker on the request's channel (not mandatory).</summary>
    ValueTask PublishAsync(IChannel requestChannel, string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body);

    /// <summary>
    /// Publishes one reply message that the broker may refuse as too large. False when it is over the broker's
    /// max_message_size, known before or learnt from this refusal: nothing was sent, and the caller is owed
    /// <see cref="TooLarge"/> instead. A message <paramref name="ordered"/> behind others on the request's channel (a
    /// stream's later messages) keeps its place.
    /// </summary>
    ValueTask<bool> TryPublishAsync(IChannel requestChannel, string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body, bool ordered = false);

    /// <summary>The <c>rpc:too-large</c> error owed for a reply the broker would not take, logged once per reply.</summary>
    CallFailure TooLarge(string? correlationId, string method, int size);
}
