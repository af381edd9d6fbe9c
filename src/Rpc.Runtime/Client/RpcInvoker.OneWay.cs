using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Client;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Generated;

// One-way requests (durable work, confirmed) and events: published on the send channel, never awaiting a reply.
public sealed partial class RpcInvoker
{
    /// <summary>
    /// Sends a one-way request as durable work: persistent, to the durable service queue (declared if need be), with no
    /// expiration unless the method or service sets a time-to-live; completes when the broker has confirmed it.
    /// </summary>
    public async Task SendAsync(RpcRequest request, CancellationToken cancellationToken)
    {
        if (request.Error is { } error)
        {
            request.Release();
            throw error;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            request.Release();
            cancellationToken.ThrowIfCancellationRequested();
        }

        var method = request.Method;
        if (Refuse(method, request) is { } refused)
        {
            request.Release();
            throw refused;
        }

        var queue = QueueOf(method.Service);
        var telemetry = ClientCallTelemetry.Start(_options, method, queue.Value, correlationId: null, oneWay: true);
        var properties = new BasicProperties
        {
            Type = method.WireName,
            ContentType = WireContract.JsonContentType,
            // What a handler de-duplicates on (RpcContext.MessageId): one per send, kept by retries and dead letters.
            MessageId = WireContract.NewMessageId(),
            Persistent = true,
            Expiration = method.TimeToLiveMilliseconds > 0 ? WireContract.ExpirationFor(TimeSpan.FromMilliseconds(method.TimeToLiveMilliseconds)) : null,
            UserId = _userId,
        };
        telemetry?.InjectTraceContext(properties.Headers ??= new Dictionary<string, object?>(2));

        // A confirm that never comes (connection lost mid-publish) must not hang a one-way caller forever.
        Exception? failure;
        try
        {
            failure = await DeclareAndPublishAsync(method, queue, properties, request, cancellationToken)
                .WaitAsync(_options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failure = new RpcTimeoutException(method.Service.Name, method.WireName, queue.Value, _options.DefaultTimeout);
        }
        catch (Exception e)
        {
            telemetry?.Complete(e);
            throw;
        }

        telemetry?.Complete(failure);
        if (failure is not null) throw failure;
    }

    /// <summary>
    /// Publishes an event of an <see cref="RpcEventsAttribute"/> interface to its exchange with <paramref name="routingKey"/>
    /// (the method's wire name when null): persistent, mandatory; completes when the broker has confirmed it.
    /// </summary>
    public Task PublishAsync(RpcRequest request, string? routingKey, CancellationToken cancellationToken)
    {
        if (request.Error is { } error)
        {
            request.Release();
            return Task.FromException(error);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            request.Release();
            return Task.FromCanceled(cancellationToken);
        }

        if (Refuse(request.Method, request) is { } refused)
        {
            request.Release();
            return Task.FromException(refused);
        }

        return _events.PublishAsync(_sends, request, routingKey, cancellationToken);
    }

    /// <summary>
    /// Why the request must not be published: the connection is down or blocked, or the body is over
    /// <see cref="RpcConnectionOptions.MaxMessageSize"/> (the broker would close the channel for it). Null to go ahead.
    /// </summary>
    private async Task<Exception?> DeclareAndPublishAsync(RpcMethodDescriptor method, CachedString queue, BasicProperties properties,
        RpcRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await _workQueues.EnsureAsync(method.Service, queue.Value, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            request.Release();
            return PublishFailure(method, queue.Value, e);
        }
        catch
        {
            request.Release();
            throw;
        }

        return await PublishSendAsync(method, queue, properties, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes a one-way request mandatory, with a confirm; returns the failure as an RpcException instead of throwing.</summary>
    private async Task<Exception?> PublishSendAsync(RpcMethodDescriptor method, CachedString queue, BasicProperties properties, RpcRequest request,
        CancellationToken cancellationToken)
    {
        try
        {
            if (_sends.WhenReady is { } ready) await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _sends.Channel.BasicPublishAsync(s_defaultExchange, queue, mandatory: true, properties, request.CompleteBody(), cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Returned: nothing took it, so it will not run; the queue is gone, and the next send declares it again.
            if (e is PublishException { IsReturn: true }) _workQueues.Forget(queue.Value);
            return PublishFailure(method, queue.Value, e);
        }
        finally
        {
            request.Release();
        }
    }

    private RpcException PublishFailure(RpcMethodDescriptor method, string queue, Exception e) =>
        PublishFailures.Describe(method, queue, e, connectionOpen: _connection.IsOpen);
}
