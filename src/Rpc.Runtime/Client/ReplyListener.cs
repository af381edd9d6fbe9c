using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Consumes the call channel's replies (its own reply queue or direct reply-to) and hands each reply, and each message of a streamed
/// result (header <c>rpc-stream</c>), and each reply of a batch of replies, to <see cref="PendingCalls"/>.
/// A reply nobody waits for any more (timed out, cancelled) is dropped quietly, and counted (<see cref="PendingCalls.DroppedReplies"/>).
/// </summary>
internal sealed class ReplyListener : AsyncDefaultBasicConsumer
{
    private readonly PendingCalls _pending;

    public ReplyListener(IChannel channel, PendingCalls pending) : base(channel)
    {
        _pending = pending;
    }

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
        string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        if (CallBatch.IsBatch(properties.ContentType))
        {
            // Replies to a batch of this client's calls, several in one message (docs/wire-format.md, "Batched calls"),
            // each only for a call of the batch the message names.
            _pending.BatchOfRepliesArrived();
            if (!CallBatch.ReadReplies(body.Span, (_pending, properties.CorrelationId), static (state, correlationId, isError, reply) =>
                {
                    if (!state._pending.TryCompleteInBatch(state.CorrelationId, correlationId, reply, isError)) state._pending.CountDroppedReply();
                }))
            {
                _pending.CountDroppedReply();
            }

            return Task.CompletedTask;
        }

        bool isError = WireContract.IsErrorReply(properties.Headers);
        bool taken = StreamContract.Read(properties.Headers) is { } stream
            ? _pending.TryStream(properties.CorrelationId, stream.Kind, stream.Sequence, body.Span, isError)
            : _pending.TryComplete(properties.CorrelationId, body.Span, isError);
        if (!taken)
        {
            _pending.CountDroppedReply();
        }

        return Task.CompletedTask;
    }
}
