using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

// Where replies come back (RpcClientOptions.ReplyQueue; docs/wire-format.md, "reply_to"): direct reply-to, or a
// server-named queue of the connection's own, which on RabbitMQ 3.10 carried a call 5 to 10 % faster at one call in
// flight (docs/performance.md) but needs configure and read on amq.gen-* and is renamed by every rebuild and recovery.
internal sealed partial class RequestReplyClient
{
    // Always classic: a vhost whose default queue type is quorum (RabbitMQ 3.13+) must not make a reply queue a quorum queue.
    private static readonly Dictionary<string, object?> s_replyQueueArguments = new() { ["x-queue-type"] = "classic" };

    // Set at connect; turned off for good (Automatic) when the broker refuses the queue, at connect or on a rebuild.
    private volatile bool _ownReplyQueue;

    // What requests carry as reply_to now. A server-named queue changes name whenever the call channel is rebuilt (an
    // auto-delete queue dies with its consumer's channel) and whenever the connection is recovered (the library declares
    // a fresh one): set before the channel is ready, read at each publish.
    private volatile string _replyTo = WireContract.DirectReplyTo;

    // A queue declared on a set-up whose consume the broker refused: deleted by the next set-up, on direct reply-to.
    private string? _declaredReplyQueue;

    /// <summary>The <c>reply_to</c> of the requests this client publishes now.</summary>
    internal string ReplyTo => _replyTo;

    /// <summary>
    /// Every request that waits for a reply, lone or batched, first try or sent again, is published here: mandatory,
    /// through the default exchange, with <c>reply_to</c> read now rather than when its properties were made, since a
    /// rebuild or a recovery meanwhile renames a server-named reply queue.
    /// </summary>
    private ValueTask PublishRequestAsync(IChannel channel, CachedString queue, BasicProperties properties, ReadOnlyMemory<byte> body)
    {
        properties.ReplyTo = _replyTo;
        return channel.BasicPublishAsync(s_defaultExchange, queue, mandatory: true, properties, body, CancellationToken.None);
    }

    /// <summary>
    /// Opens the call channel with the reply path <see cref="RpcSettings.ReplyQueue"/> asks for. With Automatic, a set-up
    /// the broker refused has already turned to direct reply-to (<see cref="ConsumeRepliesAsync"/>): it is opened again.
    /// </summary>
    private async Task OpenCallChannelAsync(CancellationToken cancellationToken)
    {
        _ownReplyQueue = _options.ReplyQueue != RpcReplyQueue.DirectReplyTo;
        try
        {
            _calls = await OpenCallChannelCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.Automatic && IsAccessRefused(refused))
        {
            _calls = await OpenCallChannelCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.ServerNamedQueue && IsAccessRefused(refused))
        {
            throw new RpcConnectionException(
                $"RabbitMQ refused this connection a reply queue of its own ({refused.ShutdownReason!.ReplyCode} {refused.ShutdownReason.ReplyText}), " +
                "which RpcClientOptions.ReplyQueue = ServerNamedQueue requires: grant its user configure and read on ^amq\\.gen-.*, " +
                "or set ReplyQueue to Automatic or DirectReplyTo.", innerException: refused);
        }
    }

    private static bool IsAccessRefused(OperationInterruptedException e) => e.ShutdownReason?.ReplyCode == Constants.AccessRefused;

    /// <summary>
    /// On each call channel (the first and each rebuilt one), the reply consumer, up to consume-ok. With Automatic, a
    /// queue the broker refuses (no configure or read on <c>amq.gen-…</c>, at connect or after the grant was taken away)
    /// turns this client to direct reply-to for good; the channel is lost with the refusal and the next one uses it.
    /// </summary>
    private async Task ConsumeRepliesAsync(IChannel channel, CancellationToken cancellationToken)
    {
        if (!_ownReplyQueue)
        {
            await ForgetRefusedReplyQueueAsync(channel, cancellationToken).ConfigureAwait(false);
            // Direct reply-to needs its consumer (no-ack) on the channel that publishes the requests.
            await channel.BasicConsumeAsync(WireContract.DirectReplyTo, autoAck: true, new ReplyListener(channel, _pending), cancellationToken)
                .ConfigureAwait(false);
            _replyTo = WireContract.DirectReplyTo;
            return;
        }

        try
        {
            // Exclusive: no other connection may read or delete it. Auto-delete: it goes with this channel, and with it
            // any reply still on its way to a call the channel's close has already failed.
            var declared = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true,
                s_replyQueueArguments, cancellationToken: cancellationToken).ConfigureAwait(false);
            _declaredReplyQueue = declared.QueueName;
            await channel.BasicConsumeAsync(declared.QueueName, autoAck: true, new ReplyListener(channel, _pending), cancellationToken)
                .ConfigureAwait(false);
            _declaredReplyQueue = null;
            _replyTo = declared.QueueName;
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.Automatic && IsAccessRefused(refused))
        {
            _ownReplyQueue = false;
            RpcLog.DirectReplyToChosen(_options.Loggers.Client, refused.ShutdownReason!.ReplyCode, refused.ShutdownReason.ReplyText);
            throw;
        }
    }

    /// <summary>
    /// Declared (configure granted) but refused a consumer (no read): the queue would stay on the broker until the
    /// connection closes, and the library would declare it again at each recovery. Deleting it through the library
    /// forgets it too.
    /// </summary>
    private async Task ForgetRefusedReplyQueueAsync(IChannel channel, CancellationToken cancellationToken)
    {
        if (_declaredReplyQueue is not { } orphan) return;
        _declaredReplyQueue = null;
        await channel.QueueDeleteAsync(orphan, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// After a connection recovery the library declared the reply queue afresh, under a new name, and moves the
    /// consumer to it before publishing resumes (<see cref="ConnectionState"/> refuses calls until recovery ends).
    /// </summary>
    private Task OnQueueRenamedAsync(object sender, QueueNameChangedAfterRecoveryEventArgs renamed)
    {
        if (_ownReplyQueue && renamed.NameBefore == _replyTo) _replyTo = renamed.NameAfter;
        return Task.CompletedTask;
    }
}
