using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// Where one-way work and events go when their handler fails: back to the end of their queue with the
/// <c>rpc-retries</c> header one higher, until <see cref="RpcOptions.RetryLimit"/>, then to <c>{queue}.dead-letter</c> with
/// the error in its headers. Input that can never succeed (unreadable, unknown method) is dead-lettered at once.
/// Each copy is publisher-confirmed before the original is acked, so a crash in between repeats work rather than
/// losing it, and since the original is acked rather than requeued the broker never loops it.
/// </summary>
internal sealed class FailedWork
{
    private readonly IConnection _connection;
    private readonly RpcOptions _options;
    private readonly string _service;
    private readonly bool _events;
    private volatile string _queue;
    private readonly string _userId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;
    private bool _deadLetterQueueDeclared;
    private readonly string _deadLetterFor;

    // events: a subscription's failures, which the events' meters count too.
    public FailedWork(IConnection connection, RpcOptions options, string service, string queue, string? deadLetterFor = null, bool events = false)
    {
        _events = events;
        _deadLetterFor = deadLetterFor ?? queue;
        _connection = connection;
        _options = options;
        _service = service;
        _queue = queue;
        DeadLetterQueue = _deadLetterFor + QueueDeclarations.DeadLetterSuffix;
        _userId = AmqpConnector.UserNameOf(options.Uri);
    }

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
    /// Puts a failed delivery back in its queue or in the dead-letter queue. True when the copy is confirmed, so the
    /// original may be acked; false when it could not be published (the channel or the broker is gone), so the
    /// original must stay with the broker.
    /// </summary>
    public async Task<bool> HandOffAsync(FailedDelivery failed)
    {
        bool retry = failed.Retryable && failed.Retries < _options.RetryLimit;
        var properties = new BasicProperties(failed.Properties)
        {
            Persistent = true,
            // A dead letter waits for someone to look at it: with the work's time-to-live it would silently expire out
            // of the dead-letter queue. A retry keeps it (the retry may wait that long again).
            Expiration = retry ? failed.Properties.Expiration : null,
            // RabbitMQ refuses a user_id that is not the publishing connection's user; a retry keeps it only when it is ours.
            UserId = failed.Properties.UserId == _userId ? _userId : null,
        };
        var headers = properties.Headers = failed.Properties.Headers is { } original
            ? new Dictionary<string, object?>(original)
            : new Dictionary<string, object?>(4);
        if (!string.IsNullOrEmpty(failed.Exchange) && !headers.ContainsKey(WireContract.ExchangeHeader))
        {
            headers[WireContract.ExchangeHeader] = failed.Exchange;
            headers[WireContract.RoutingKeyHeader] = failed.RoutingKey;
        }

        headers[WireContract.RetriesHeader] = retry ? failed.Retries + 1 : failed.Retries;
        if (!retry)
        {
            headers[WireContract.ErrorTypeHeader] = failed.ErrorType;
            headers[WireContract.ErrorMessageHeader] = failed.ErrorMessage;
            headers[WireContract.SourceQueueHeader] = _queue;
        }

        try
        {
            var channel = await ChannelAsync(declareDeadLetterQueue: !retry).ConfigureAwait(false);
            await channel.BasicPublishAsync(WireContract.DefaultExchange, retry ? _queue : DeadLetterQueue, mandatory: true, properties, failed.Body)
                .ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RpcLog.HandOffFailed(_options.Loggers.Server, e, _service, _queue, failed.Method, retry ? _queue : DeadLetterQueue);
            await ResetAsync().ConfigureAwait(false);
            return false;
        }

        if (retry)
        {
            Interlocked.Increment(ref _retried);
            RpcLog.WorkRetried(_options.Loggers.Server, failed.Failure, _service, failed.Method, _queue, failed.Retries + 1, _options.RetryLimit, failed.ErrorType, failed.ErrorMessage);
            RpcTelemetry.CountRetried(_service, failed.Method);
        }
        else
        {
            Interlocked.Increment(ref _deadLettered);
            RpcLog.WorkDeadLettered(_options.Loggers.Server, failed.Failure, _service, failed.Method, _queue, DeadLetterQueue, failed.Retries, failed.ErrorType, failed.ErrorMessage);
            RpcTelemetry.CountDeadLettered(_service, failed.Method, failed.ErrorType, _events);
        }

        return true;
    }

    /// <summary>A confirmed channel of its own, opened at the first failure and again after it closes.</summary>
    private async ValueTask<IChannel> ChannelAsync(bool declareDeadLetterQueue)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_channel is not { IsOpen: true })
            {
                _channel?.Dispose();
                _channel = await _connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null)).ConfigureAwait(false);
                _deadLetterQueueDeclared = false;
            }

            if (declareDeadLetterQueue && !_deadLetterQueueDeclared)
            {
                await QueueDeclarations.DeclareDeadLetterAsync(_channel, _options, _deadLetterFor, CancellationToken.None).ConfigureAwait(false);
                _deadLetterQueueDeclared = true;
            }

            return _channel;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ResetAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_channel is { IsOpen: true }) return;
            _channel?.Dispose();
            _channel = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask CloseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_channel is null) return;
            try
            {
                await _channel.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (RpcServer.IsChannelGone(e))
            {
            }

            _channel.Dispose();
            _channel = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>A delivery whose handling failed, with what its hand-off needs to know.</summary>
internal readonly record struct FailedDelivery(
    IReadOnlyBasicProperties Properties,
    ReadOnlyMemory<byte> Body,
    string Exchange,
    string RoutingKey,
    string Method,
    int Retries,
    bool Retryable,
    string ErrorType,
    string ErrorMessage,
    Exception? Failure = null);
