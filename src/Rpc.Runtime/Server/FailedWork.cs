using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// Where one-way work and events go when their handler fails: back to the end of their queue with the
/// <c>rpc-retries</c> header one higher (after a backoff, <see cref="RpcServerOptions.RetryBackoff"/>), until
/// <see cref="RpcServerOptions.RetryLimit"/>, then to <c>{queue}.dead-letter</c> with the error in its headers. Input that can
/// never succeed (unreadable, unknown method) is dead-lettered at once. Each copy is publisher-confirmed, within a bound,
/// before the original is acked, so a crash in between repeats work rather than losing it, and since the original is
/// acked rather than requeued the broker never loops it. A copy the broker keeps refusing is given up after
/// <see cref="Attempts"/> tries, logged as an error; one the broker cannot take now (no confirm in time, connection
/// lost) stays with the broker.
/// </summary>
internal sealed class FailedWork
{
    /// <summary>Tries of one hand-off the broker refuses (nack, return, 403, 406), 1 s and 2 s apart, before it is given up.</summary>
    public const int Attempts = 3;

    private static readonly TimeSpan s_refusedPause = TimeSpan.FromSeconds(1);

    private readonly ConfirmedChannel _publisher;
    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly string _service;
    private readonly bool _events;
    private volatile string _queue;
    private volatile string? _userId;
    private readonly string _deadLetterFor;
    private int _declaredOn = -1;

    // events: a subscription's failures, which the events' meters count too.
    public FailedWork(IConnection connection, ConfirmedChannel publisher, RpcSettings options, string service, string queue, string? deadLetterFor = null,
        bool events = false)
    {
        _events = events;
        _deadLetterFor = deadLetterFor ?? queue;
        _connection = connection;
        _publisher = publisher;
        _options = options;
        _service = service;
        _queue = queue;
        DeadLetterQueue = _deadLetterFor + QueueDeclarations.DeadLetterSuffix;
        _userId = ServerUserOf(options);
    }

    /// <summary>
    /// The broker user this server's connection publishes as, when its options name it (a Uri or Uris); null on a
    /// connection the app opened, whose user RpcGen does not know.
    /// </summary>
    public static string? ServerUserOf(RpcSettings options) =>
        options.HasUri || options.Uris.Count > 0 ? AmqpConnector.UserNameOf(options.NodeUris[0]) : null;

    /// <summary>The user the copies are published as, which <see cref="WorkHistory"/> believes server-set headers from.</summary>
    public string? ServerUser => _userId;

    /// <summary>
    /// The queue retries go back to has a new name: an exclusive server-named queue re-declared by connection recovery
    /// (its dead-letter queue is named after the exchange, so it stays).
    /// </summary>
    public void QueueRenamed(string queue) => _queue = queue;

    /// <summary>The queue given-up messages go to.</summary>
    public string DeadLetterQueue { get; }

    public long Retried => Interlocked.Read(ref _retried);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    private long _retried;
    private long _deadLettered;

    /// <summary>
    /// Waits the backoff before retry <paramref name="retry"/> (1 for the first). Cut short by
    /// <paramref name="cancellationToken"/> (the delivery's channel is lost, or the server stops).
    /// </summary>
    public async Task BackoffAsync(int retry, CancellationToken cancellationToken)
    {
        var wait = _options.RetryBackoffFor(retry);
        if (wait <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(wait, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Puts a failed delivery back in its queue or in the dead-letter queue. True when the original may be acked: the
    /// copy is confirmed, or the broker refused it <see cref="Attempts"/> times and it was given up (logged as an
    /// error). False when the original must stay with the broker: its channel is lost, or no copy could be published
    /// for now (no confirm in time, the connection is gone).
    /// </summary>
    public async Task<bool> HandOffAsync(FailedDelivery failed, IChannel deliveredOn, CancellationToken channelLost)
    {
        bool retry = failed.Retryable && failed.History.Retries < _options.RetryLimit;
        if (retry)
        {
            // Held meanwhile, in its prefetch slot: a retry published at once would be back in a moment, failing again.
            await BackoffAsync(failed.History.Retries + 1, channelLost).ConfigureAwait(false);
            // Its channel went with the wait: the broker delivers the original again, and a copy would double it.
            if (!deliveredOn.IsOpen) return false;
        }

        Exception? refused = null;
        for (int attempt = 1; attempt <= Attempts; attempt++)
        {
            var target = retry ? _queue : DeadLetterQueue;
            try
            {
                await _publisher.PublishAsync(WireContract.DefaultExchange, target, CopyOf(failed, retry), failed.Body, _options.DefaultTimeout,
                    retry ? null : DeclareDeadLetterQueueAsync).ConfigureAwait(false);
                Counted(failed, retry);
                return true;
            }
            catch (Exception e)
            {
                RpcLog.HandOffFailed(_options.Loggers.Server, e, _service, _queue, failed.Method, target);
                if (!IsRefusal(e)) return false;
                refused = e;
                if (e is OperationInterruptedException { ShutdownReason.ReplyText: { } text } && text.Contains("user_id", StringComparison.Ordinal))
                {
                    // The connection authenticates as someone else than its Uri says (e.g. a client certificate): the
                    // copies go without user_id, and so without a caller's identity the server could vouch for.
                    _userId = null;
                }
                else
                {
                    // A retry the broker refuses (its queue full or gone) is given up to the dead-letter queue instead.
                    retry = false;
                }

                if (attempt < Attempts) await Task.Delay(s_refusedPause * attempt).ConfigureAwait(false);
                // Its channel went with the pause: the broker delivers the original again, and a copy would double it.
                if (!deliveredOn.IsOpen) return false;
            }
        }

        RpcLog.HandOffGivenUp(_options.Loggers.Server, refused, _service, failed.Method, _queue, DeadLetterQueue, Attempts,
            failed.Properties.MessageId, failed.Body.Length, failed.ErrorType, failed.ErrorMessage);
        return true;
    }

    /// <summary>
    /// The broker said no to this message or its queue, which trying at once would not change: a nack (a full queue
    /// with reject-publish), a return, or a channel closed over access (403), a missing queue (404) or a mismatch
    /// (406) while the connection stays up. Anything else (no confirm in time, the connection lost) is not the
    /// message's fault, and the broker keeps it.
    /// </summary>
    private bool IsRefusal(Exception e) => e switch
    {
        PublishException => true,
        OperationInterruptedException { ShutdownReason: { Initiator: ShutdownInitiator.Peer } reason }
            when _connection.IsOpen && reason.ReplyCode is Constants.AccessRefused or Constants.NotFound or Constants.PreconditionFailed => true,
        _ => false,
    };

    private BasicProperties CopyOf(FailedDelivery failed, bool retry)
    {
        var history = failed.History;
        var properties = new BasicProperties(failed.Properties)
        {
            Persistent = true,
            // A dead letter waits for someone to look at it: with the work's time-to-live it would silently expire out
            // of the dead-letter queue. A retry keeps it (the retry may wait that long again).
            Expiration = retry ? failed.Properties.Expiration : null,
            // RabbitMQ refuses a user_id that is not the publishing connection's user: the copy is the server's, and
            // the caller's identity travels in rpc-original-user, which WorkHistory believes from the server's user only.
            UserId = _userId,
        };
        var headers = properties.Headers = new Dictionary<string, object?>((failed.Properties.Headers?.Count ?? 0) + 6);
        if (failed.Properties.Headers is { } original)
        {
            // The delivery's own server-set headers were believed or ignored (WorkHistory); either way the copy
            // carries what the history says, so a forged one never becomes the server's word.
            foreach (var (name, value) in original)
            {
                if (!WireContract.IsServerSetHeader(name)) headers[name] = value;
            }
        }

        if (!string.IsNullOrEmpty(history.Exchange))
        {
            headers[WireContract.ExchangeHeader] = history.Exchange;
            headers[WireContract.RoutingKeyHeader] = history.RoutingKey;
        }

        if (_userId is not null) headers[WireContract.OriginalUserHeader] = history.UserId ?? string.Empty;
        if (history.Replays > 0) headers[WireContract.ReplaysHeader] = history.Replays;
        headers[WireContract.RetriesHeader] = retry ? history.Retries + 1 : history.Retries;
        // A retry carries no verdict (a replayed dead letter is work again, or the next server would take it for a
        // replay too); a dead letter carries why it was given up.
        if (!retry)
        {
            headers[WireContract.ErrorTypeHeader] = failed.ErrorType;
            headers[WireContract.ErrorMessageHeader] = failed.ErrorMessage;
            headers[WireContract.SourceQueueHeader] = _queue;
        }

        return properties;
    }

    /// <summary>The dead-letter queue, declared once per channel (a refused declare closes the channel, and the next one declares again).</summary>
    private async Task DeclareDeadLetterQueueAsync(IChannel channel, int generation)
    {
        if (Volatile.Read(ref _declaredOn) == generation) return;
        try
        {
            await QueueDeclarations.DeclareDeadLetterAsync(channel, _options, _deadLetterFor, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == Constants.PreconditionFailed)
        {
            // It exists with other arguments (an operator's length limit, a queue an older RpcGen declared): the next
            // channel publishes to it as it is, and the broker's answer to that publish says whether it takes the copy.
            Volatile.Write(ref _declaredOn, generation + 1);
            throw;
        }

        Volatile.Write(ref _declaredOn, generation);
    }

    private void Counted(FailedDelivery failed, bool retry)
    {
        var history = failed.History;
        if (retry)
        {
            Interlocked.Increment(ref _retried);
            RpcLog.WorkRetried(_options.Loggers.Server, failed.Failure, _service, failed.Method, _queue, history.Retries + 1, _options.RetryLimit, failed.ErrorType, failed.ErrorMessage);
            RpcTelemetry.CountRetried(_service, failed.Method);
        }
        else
        {
            Interlocked.Increment(ref _deadLettered);
            RpcLog.WorkDeadLettered(_options.Loggers.Server, failed.Failure, _service, failed.Method, _queue, DeadLetterQueue, history.Retries, failed.ErrorType, failed.ErrorMessage);
            RpcTelemetry.CountDeadLettered(_service, failed.Method, failed.ErrorType, _events);
        }
    }
}

/// <summary>A delivery whose handling failed, with what its hand-off needs to know.</summary>
internal readonly record struct FailedDelivery(
    IReadOnlyBasicProperties Properties,
    ReadOnlyMemory<byte> Body,
    string Method,
    WorkHistory History,
    bool Retryable,
    string ErrorType,
    string ErrorMessage,
    Exception? Failure = null);
