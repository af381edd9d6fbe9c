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

    // Set at connect; turned off for good (Automatic) when a rebuild finds the permission gone.
    private volatile bool _ownReplyQueue;

    // What requests carry as reply_to now. A server-named queue changes name whenever the call channel is rebuilt (an
    // auto-delete queue dies with its consumer's channel) and whenever the connection is recovered (the library declares
    // a fresh one): set before the channel is ready, read at each publish.
    private volatile string _replyTo = WireContract.DirectReplyTo;

    // A queue declared but not yet consumed from on a set-up that failed: removed when falling back to direct reply-to.
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

    /// <summary>Opens the call channel with the reply path <see cref="RpcSettings.ReplyQueue"/> asks for, falling back (Automatic) when refused.</summary>
    private async Task OpenCallChannelAsync(CancellationToken cancellationToken)
    {
        _ownReplyQueue = _options.ReplyQueue != RpcReplyQueue.DirectReplyTo;
        try
        {
            _calls = await OpenCallChannelCoreAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.Automatic && IsAccessRefused(refused))
        {
            RpcLog.DirectReplyToChosen(_options.Loggers.Client, refused.ShutdownReason!.ReplyCode, refused.ShutdownReason.ReplyText);
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.ServerNamedQueue && IsAccessRefused(refused))
        {
            throw new RpcConnectionException(
                $"RabbitMQ refused this connection a reply queue of its own ({refused.ShutdownReason!.ReplyCode} {refused.ShutdownReason.ReplyText}), " +
                "which RpcClientOptions.ReplyQueue = ServerNamedQueue requires: grant its user configure and read on ^amq\\.gen-.*, " +
                "or set ReplyQueue to Automatic or DirectReplyTo.", innerException: refused);
        }

        _ownReplyQueue = false;
        _replyTo = WireContract.DirectReplyTo;
        await ForgetRefusedReplyQueueAsync(cancellationToken).ConfigureAwait(false);
        _calls = await OpenCallChannelCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool IsAccessRefused(OperationInterruptedException e) => e.ShutdownReason?.ReplyCode == Constants.AccessRefused;

    /// <summary>
    /// Declared (configure granted) but not consumed (read refused): the queue stays on the broker until the connection
    /// closes, and the library would declare it again at each recovery. Deleting it through the library forgets it too.
    /// </summary>
    private async Task ForgetRefusedReplyQueueAsync(CancellationToken cancellationToken)
    {
        if (_declaredReplyQueue is not { } orphan) return;
        _declaredReplyQueue = null;
        await ManagedChannel.WithScratchChannelAsync(_connection, orphan,
            static (channel, queue) => channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>On each call channel (the first and each rebuilt one), the reply consumer, up to consume-ok.</summary>
    private async Task ConsumeRepliesAsync(IChannel channel, CancellationToken cancellationToken)
    {
        if (!_ownReplyQueue)
        {
            // Direct reply-to needs its consumer (no-ack) on the channel that publishes the requests.
            await channel.BasicConsumeAsync(WireContract.DirectReplyTo, autoAck: true, new ReplyListener(channel, _pending), cancellationToken)
                .ConfigureAwait(false);
            _replyTo = WireContract.DirectReplyTo;
            return;
        }

        // Exclusive: no other connection may read or delete it. Auto-delete: it goes with this channel, and with it any
        // reply still on its way to a call the channel's close has already failed.
        QueueDeclareOk declared;
        try
        {
            declared = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true,
                s_replyQueueArguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException refused) when (_options.ReplyQueue == RpcReplyQueue.Automatic && IsAccessRefused(refused) && _calls is not null)
        {
            // Rebuilding after the permission was taken away: the next attempt, on a fresh channel, uses direct reply-to
            // rather than being refused for ever while every call waits for the channel.
            _ownReplyQueue = false;
            RpcLog.DirectReplyToChosen(_options.Loggers.Client, refused.ShutdownReason!.ReplyCode, refused.ShutdownReason.ReplyText);
            throw;
        }

        _declaredReplyQueue = declared.QueueName;
        await channel.BasicConsumeAsync(declared.QueueName, autoAck: true, new ReplyListener(channel, _pending), cancellationToken)
            .ConfigureAwait(false);
        _declaredReplyQueue = null;
        _replyTo = declared.QueueName;
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
