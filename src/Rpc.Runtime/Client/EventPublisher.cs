using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Publishes events: persistent, mandatory and publisher-confirmed on the invoker's send channel, to the events'
/// exchange, which is declared durable once per connection before its first event. An event no queue is bound for
/// is returned by the broker: that is logged (event 2003) and counted, and fails the publish only when
/// <see cref="RpcClientOptions.FailUnroutableEvents"/> is set.
/// </summary>
internal sealed class EventPublisher
{
    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly string? _userId;
    private readonly ConcurrentDictionary<string, Task> _exchanges = new(StringComparer.Ordinal);

    public EventPublisher(IConnection connection, RpcSettings options, string? userId)
    {
        _connection = connection;
        _options = options;
        _userId = userId;
    }

    public async Task PublishAsync(ChannelHolder sends, RpcRequest request, string? routingKey, CancellationToken cancellationToken)
    {
        var method = request.Method;
        var service = (RpcEventsDescriptor)method.Service;
        var exchange = _options.ExchangeFor(service);
        var key = routingKey ?? method.WireName;
        var telemetry = ClientCallTelemetry.Start(_options, method, exchange, correlationId: null, oneWay: true);
        var properties = new BasicProperties
        {
            Type = method.WireName,
            ContentType = WireContract.JsonContentType,
            MessageId = WireContract.NewMessageId(),
            Persistent = true,
            UserId = _userId,
        };
        telemetry?.InjectTraceContext(properties.Headers ??= new Dictionary<string, object?>(2));

        Exception? failure;
        try
        {
            // A confirm that never comes (connection lost mid-publish) must not hang a publisher forever.
            failure = await DeclareAndPublishAsync(sends, service, exchange, key, properties, request, cancellationToken)
                .WaitAsync(_options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failure = new RpcTimeoutException(service.Name, method.WireName, exchange, _options.DefaultTimeout);
        }
        catch (Exception e)
        {
            telemetry?.Complete(e);
            throw;
        }

        telemetry?.Complete(failure);
        if (failure is not null) throw failure;
        RpcTelemetry.CountPublished(service.Name, method.WireName);
    }

    private async Task<Exception?> DeclareAndPublishAsync(ChannelHolder sends, RpcEventsDescriptor service, string exchange, string routingKey,
        BasicProperties properties, RpcRequest request, CancellationToken cancellationToken)
    {
        var method = request.Method;
        try
        {
            await EnsureExchangeAsync(service, exchange, cancellationToken).ConfigureAwait(false);
            // The send channel may be between a broker close and its rebuild: wait for the new one.
            if (sends.WhenReady is { } ready) await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            await sends.Channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, request.CompleteBody(), cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        catch (PublishException returned) when (returned.IsReturn)
        {
            // Not an error by AMQP's rules: nobody subscribed (yet). Said loudly, failed only on request.
            RpcLog.EventUnroutable(_options.Loggers.Client, service.Name, method.WireName, exchange, routingKey);
            RpcTelemetry.CountUnroutable(service.Name, method.WireName);
            return _options.FailUnroutableEvents ? new RpcUnroutableEventException(service.Name, method.WireName, exchange, routingKey) : null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return PublishFailures.Describe(method, exchange, e, connectionOpen: _connection.IsOpen);
        }
        finally
        {
            request.Release();
        }
    }

    /// <summary>Declared on a short-lived channel of its own: a refused declaration closes its channel, and the send channel must live on.</summary>
    private Task EnsureExchangeAsync(RpcEventsDescriptor service, string exchange, CancellationToken cancellationToken)
    {
        var declared = _exchanges.GetOrAdd(exchange, _ => DeclareExchangeAsync(service, exchange));
        if (declared.IsCompletedSuccessfully) return Task.CompletedTask;
        return AwaitAsync(declared, exchange, cancellationToken);
    }

    private async Task AwaitAsync(Task declared, string exchange, CancellationToken cancellationToken)
    {
        try
        {
            await declared.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _exchanges.TryRemove(new(exchange, declared));
            throw;
        }
    }

    private Task DeclareExchangeAsync(RpcEventsDescriptor service, string exchange) =>
        Transport.ExchangeDeclarations.DeclareOrFindAsync(_connection, _options, service, exchange, CancellationToken.None);
}
