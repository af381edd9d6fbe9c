using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// The narrow API generated clients call: create a request, write its arguments, then call or send it. Owns the client
/// channel, on which requests are published (mandatory, with publisher confirms) and replies consumed.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcInvoker
{
    private readonly IChannel _channel;
    private readonly PendingCalls _pending;
    private readonly RpcOptions _options;

    // Sent as user_id: RabbitMQ rejects a message whose user_id is not the connection's user, so servers can trust it.
    private readonly string _userId;

    private RpcInvoker(IChannel channel, PendingCalls pending, RpcOptions options)
    {
        _userId = Transport.AmqpConnector.UserNameOf(options.Uri);
        _channel = channel;
        _pending = pending;
        _options = options;
    }

    internal PendingCalls PendingCalls => _pending;

    internal static async Task<RpcInvoker> CreateAsync(IConnection connection, RpcOptions options, CancellationToken cancellationToken)
    {
        // Confirms with tracking turn a basic.return of a mandatory publish into a PublishException: an unroutable
        // call fails in milliseconds instead of waiting for its timeout. No rate limiter: the caller bounds concurrency.
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: null),
            cancellationToken).ConfigureAwait(false);
        var pending = new PendingCalls();
        var listener = new ReplyListener(channel, pending);
        // Direct reply-to needs its consumer (no-ack) on the channel that publishes the requests.
        await channel.BasicConsumeAsync(WireContract.DirectReplyTo, autoAck: true, listener, cancellationToken).ConfigureAwait(false);
        return new RpcInvoker(channel, pending, options);
    }

    /// <summary>Starts a request to <paramref name="method"/>.</summary>
    public RpcRequest CreateRequest(RpcMethodDescriptor method) => new(this, method);

    /// <summary>Calls the method and returns its result.</summary>
    public Task<T> CallAsync<T>(RpcRequest request, CancellationToken cancellationToken)
    {
        JsonTypeInfo<T> resultType;
        try
        {
            resultType = GetTypeInfo<T>();
        }
        catch (Exception e)
        {
            return Task.FromException<T>(new RpcSerializationException(
                $"RPC {request.Method.Service.Name}.{request.Method.WireName}: result type {typeof(T).Name} cannot be deserialised: {e.Message}",
                request.Method.Service.Name, request.Method.WireName, e));
        }

        return Start(request, resultType, cancellationToken);
    }

    /// <summary>Calls a method that returns no result and completes when the server has replied.</summary>
    public Task CallAsync(RpcRequest request, CancellationToken cancellationToken) => Start<object?>(request, null, cancellationToken);

    /// <summary>Sends a one-way request: completes when the broker has confirmed it, with no reply.</summary>
    public async Task SendAsync(RpcRequest request, CancellationToken cancellationToken)
    {
        if (request.Error is not null) throw request.Error;
        cancellationToken.ThrowIfCancellationRequested();
        var method = request.Method;
        var properties = new BasicProperties
        {
            Type = method.WireName,
            ContentType = WireContract.JsonContentType,
            Expiration = WireContract.ExpirationFor(_options.DefaultTimeout),
            UserId = _userId,
        };

        // A confirm that never comes (connection lost mid-publish) must not hang a one-way caller forever.
        Exception? failure;
        try
        {
            failure = await PublishAsync(method, properties, request.CompleteBody(), cancellationToken)
                .WaitAsync(_options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failure = new RpcTimeoutException(method.Service.Name, method.WireName, _options.QueueFor(method.Service), _options.DefaultTimeout);
        }

        if (failure is not null) throw failure;
    }

    internal JsonTypeInfo<T> GetTypeInfo<T>() => (JsonTypeInfo<T>)_options.JsonSerializerOptions.GetTypeInfo(typeof(T));

    private Task<T> Start<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        if (request.Error is not null) return Task.FromException<T>(request.Error);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);

        var timeout = _options.DefaultTimeout;
        var call = _pending.Create(request.Method, _options.QueueFor(request.Method.Service), timeout, resultType);
        _pending.Add(call, timeout, cancellationToken);
        _ = PublishRequestAsync(call, request);
        return call.Task;
    }

    private async Task PublishRequestAsync(PendingCall call, RpcRequest request)
    {
        var properties = new BasicProperties
        {
            CorrelationId = call.CorrelationId,
            ReplyTo = WireContract.DirectReplyTo,
            Type = call.Method.WireName,
            ContentType = WireContract.JsonContentType,
            Expiration = WireContract.ExpirationFor(call.Timeout),
            UserId = _userId,
            Headers = new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline },
        };

        // The call's own timer and cancellation bound how long the caller waits; the publish itself is not cancelled
        // half way, which would leave the channel in an unknown state.
        var failure = await PublishAsync(call.Method, properties, request.CompleteBody(), CancellationToken.None).ConfigureAwait(false);
        if (failure is not null) _pending.Fail(call, failure);
    }

    /// <summary>Publishes mandatory to the service queue; returns the failure as an RpcException instead of throwing.</summary>
    private async Task<Exception?> PublishAsync(RpcMethodDescriptor method, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var service = method.Service;
        var queue = _options.QueueFor(service);
        try
        {
            await _channel.BasicPublishAsync(WireContract.DefaultExchange, queue, mandatory: true, properties, body, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        catch (PublishException e) when (e.IsReturn)
        {
            return new RpcServiceUnavailableException(service.Name, method.WireName, queue);
        }
        catch (PublishException e)
        {
            return new RpcException($"RPC {service.Name}.{method.WireName}: the broker refused the request (nack).", service.Name, method.WireName, e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
            return new RpcConnectionException(
                $"RPC {service.Name}.{method.WireName}: not connected to RabbitMQ ({ShutdownReason(e)}).", service.Name, method.WireName, e);
        }
        catch (Exception e)
        {
            return new RpcException($"RPC {service.Name}.{method.WireName}: publishing the request failed: {e.Message}", service.Name, method.WireName, e);
        }
    }

    /// <summary>The broker's or library's one-line reason; the exceptions' own messages carry whole stack traces.</summary>
    private static string ShutdownReason(Exception e) => e switch
    {
        OperationInterruptedException { ShutdownReason: { } reason } => reason.ReplyText,
        _ => e.Message,
    };

    internal async ValueTask CloseAsync()
    {
        _pending.FailAll(call => new RpcConnectionException(
            $"RPC {call.Method.Service.Name}.{call.Method.WireName}: the RpcConnection was disposed before a reply came.",
            call.Method.Service.Name, call.Method.WireName));
        try
        {
            await _channel.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
        }

        _channel.Dispose();
    }
}
