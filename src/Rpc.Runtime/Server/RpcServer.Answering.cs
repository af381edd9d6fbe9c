using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen;

// One delivery, start to finish: accept or refuse it, run the handler, write the reply or the error, settle it.
public sealed partial class RpcServer
{
    internal async Task HandleAsync(RequestConsumer consumer, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var acks = consumer.Acks;
        Interlocked.Increment(ref _inFlight);
        acks.Delivered(deliveryTag);
        // Every delivery is settled exactly once, here, whatever throws above: acked once answered (or once answering
        // failed for good, so a request that breaks the server is not redelivered in a loop), given back unanswered
        // only when the server is stopping.
        bool requeue = true;
        bool failed = false;
        try
        {
            if (_stopping) return; // arrived while stopping: give it back for another server
            requeue = false;
            requeue = !await (CallBatch.IsBatch(properties.ContentType)
                ? AnswerBatchAsync(consumer, redelivered, exchange, routingKey, properties, body)
                : AnswerAsync(consumer, redelivered, exchange, routingKey, properties, body)).ConfigureAwait(false);
            // Given back because its hand-off failed: a failure, which counts toward a quorum queue's delivery limit.
            failed = requeue;
        }
        catch (Exception e)
        {
            try
            {
                Diagnostics.RpcLog.AnswerFailed(_options.Loggers.Server, e, _service.Name, _queue, properties.CorrelationId);
            }
            catch (Exception)
            {
                // A log provider that throws must not leave the delivery unsettled.
            }
        }
        finally
        {
            try
            {
                if (requeue) await acks.RequeueAsync(deliveryTag, failed).ConfigureAwait(false);
                else await acks.AckAsync(deliveryTag).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>
    /// Runs the request and answers it; false when the delivery must go back to the queue instead of being acked. A
    /// request of a batch hands its reply to <paramref name="batch"/> instead of publishing it.
    /// </summary>
    private async Task<bool> AnswerAsync(RequestConsumer consumer, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, BatchReplies? batch = null)
    {
        if (batch is null && RefusesReplyQueue(properties)) return true;
        var telemetry = StartTelemetry(properties, redelivered, body.Length);
        // Pooled: the reply body is written, published and given back without a buffer allocated per call.
        using var result = new PooledBufferWriter();
        RpcMethodDescriptor? method = null;
        Exception? failure;
        var history = WorkHistory.Of(properties, exchange, routingKey, _failedWork.ServerUser);
        int retries = history.Retries;
        _messageLimit.Delivered(body.Length);
        DateTimeOffset? callerDeadline = WireContract.ReadDeadline(properties.Headers) is long deadline
            ? DateTimeOffset.FromUnixTimeMilliseconds(deadline)
            : null;
        RpcServerCall? served = null;
        while (true)
        {
            failure = null;
            try
            {
                method = Accept(properties, body);
                if (_running.WasCancelled(properties.CorrelationId, properties.UserId))
                {
                    throw new ErrorReply(WireContract.ErrorTypes.Cancelled, "The caller cancelled the call before it ran; it was not run.");
                }

                var context = new RpcContext(_service.Name, method.WireName, properties.CorrelationId, history.UserId, redelivered || history.Repeat || retries > 0,
                    callerDeadline, properties.Headers) { MessageId = properties.MessageId };
                // The routing key as first published (a retried copy carries it in a header only the server's own copies are believed for).
                var call = new RpcServerCall(method, body, _options.JsonSerializerOptions, result, context, consumer.ChannelLost.Token,
                    history.RoutingKey, properties.ContentType);
                served = call;
                call.Server = this;
                call.Request = properties;
                call.DeliveredOn = consumer.Channel;
                bool tracked = _running.Track(call);
                try
                {
                    await InvokeAsync(call).ConfigureAwait(false);
                }
                finally
                {
                    if (tracked) _running.Untrack(call);
                    call.Complete();
                }

                if (result.WrittenCount > _options.MaxMessageSize)
                {
                    throw new ErrorReply(WireContract.ErrorTypes.TooLarge,
                        $"The reply of {_service.Name}.{method.WireName} is {result.WrittenCount} bytes, larger than the server's RpcConnectionOptions.MaxMessageSize ({_options.MaxMessageSize}); it was not sent.");
                }

                if (_messageLimit.Known is { } brokerLimit && result.WrittenCount > brokerLimit && method.OneWay != true)
                {
                    throw ReplyOverBrokerLimit(properties.CorrelationId, method.WireName, result.WrittenCount, brokerLimit);
                }
            }
            catch (Exception e)
            {
                failure = e;
                result.Clear();
            }

            // An ordered service retries in place: sent to the back of the queue, the work would overtake nothing but be overtaken.
            if (failure is null || !_service.Ordered || method?.OneWay != true || !IsRetryable(failure, served) || retries >= _options.RetryLimit || _stopping) break;
            retries++;
            await _failedWork.BackoffAsync(retries, consumer.ChannelLost.Token).ConfigureAwait(false);
            Diagnostics.RpcLog.WorkRetried(_options.Loggers.Server, failure, _service.Name, method.WireName, _queue, retries, _options.RetryLimit,
                Classify(failure).Type, failure.Message);
        }

        if (failure is not null && method?.OneWay != true && TryWriteDeclaredFault(result, method, failure, telemetry))
        {
            // A fault the method declares: written with its data, logged as expected.
        }
        else if (failure is not null)
        {
            var (type, message) = Classify(failure);
            bool handOff = method?.OneWay == true || (method is null && string.IsNullOrEmpty(properties.ReplyTo));
            var stopped = StoppedByRuntime(failure, served, consumer, callerDeadline);
            Guard(telemetry, static (t, state) => t.Failed(state.failure, state.type, rejected: !IsRetryable(state.failure), handedOff: state.handOff,
                stopped: state.stopped), (failure, type, handOff, stopped));
            if (handOff)
            {
                // Nobody to tell: the work is retried or dead-lettered (dropped, with an Error, only if the broker keeps refusing the copy).
                var failed = new FailedDelivery(properties, body, method?.WireName ?? Diagnostics.RpcTelemetry.OtherMethod,
                    history with { Retries = retries }, IsRetryable(failure, served) && !_service.Ordered, type, message, failure);
                if (!await _failedWork.HandOffAsync(failed, consumer.Channel, consumer.ChannelLost.Token).ConfigureAwait(false))
                {
                    // Left with the broker (no confirm in time, or the connection is gone); a pause first, so a broker
                    // that cannot take a copy now is not asked again at once.
                    await Task.Delay(HandOffRetryPause).ConfigureAwait(false);
                    Guard(telemetry, static (t, _) => t.Stop(), 0);
                    return false;
                }
            }
            else
            {
                ErrorBody.Write(result, type, message, _options.IncludeExceptionDetails && IsRetryable(failure) ? failure.ToString() : null);
            }
        }

        // The handler stopped because its caller's deadline passed (its token fired, or a call it made ended with the
        // deadline it inherited): the caller ends the call itself with RpcTimeoutException, and an error reply would
        // only race that, down a chain of calls sharing one deadline too. (After a caller's cancel the handler's
        // exception still goes back, as docs/wire-format.md "Cancelling a call" promises pika clients.)
        bool callerGaveUp = failure is not null && EndedByCallersDeadline(failure, served, callerDeadline);
        // A request whose channel the broker closed is back in the queue and will be answered from there. A streamed
        // result has sent its own end or error marker.
        if (!string.IsNullOrEmpty(properties.ReplyTo) && method?.OneWay != true && consumer.Channel.IsOpen && !callerGaveUp
            && served?.Streamed != true)
        {
            if (batch is not null) batch.Add(properties.CorrelationId, method?.WireName, failure is not null, result.WrittenSpan);
            else if (failure is null && _messageLimit.MayRefuse(result.WrittenCount)) await AnswerLargeAsync(consumer.Channel, properties, method!.WireName, result).ConfigureAwait(false);
            else await PublishReplyAsync(consumer.Channel, properties.ReplyTo!, properties.CorrelationId, failure is not null, result.WrittenMemory).ConfigureAwait(false);
        }

        Guard(telemetry, static (t, _) => t.Stop(), 0);
        Interlocked.Increment(ref _served);
        return true;
    }

    private static readonly TimeSpan HandOffRetryPause = TimeSpan.FromSeconds(1);

    /// <summary>Whether trying again could help: the handler threw, as opposed to input that can never succeed.</summary>
    private static bool IsRetryable(Exception e) => e is not ErrorReply and not RpcBadRequestException;

    /// <summary>
    /// Whether one-way work is worth another try: <see cref="IsRetryable(Exception)"/>, and no interceptor refused it
    /// (an authorising interceptor refuses the same caller again; its retry keeps the caller's identity).
    /// </summary>
    private static bool IsRetryable(Exception e, RpcServerCall? served) => IsRetryable(e) && served?.RefusedByInterceptor != true;

    /// <summary>
    /// A reply goes out with this server's broker rights through the default exchange, which reaches every queue: only
    /// the caller's own kind of reply queue is answered (RpcServerOptions.AllowedReplyQueuePrefixes), or a caller could make
    /// the server write into any queue. True (logged, to be acked unrun) when the request names another queue. One-way
    /// work gets no reply whatever its reply_to says, so it runs.
    /// </summary>
    private bool RefusesReplyQueue(IReadOnlyBasicProperties properties)
    {
        var replyTo = properties.ReplyTo;
        if (string.IsNullOrEmpty(replyTo) || _options.IsAllowedReplyQueue(replyTo)) return false;
        if (!CallBatch.IsBatch(properties.ContentType) && FindMethod(properties.Type)?.OneWay == true) return false;
        try
        {
            Diagnostics.RpcLog.ReplyQueueRefused(_options.Loggers.Server, _service.Name, _queue, properties.CorrelationId, properties.UserId, replyTo);
        }
        catch (Exception)
        {
            // A log provider that throws must not get the request run.
        }

        return true;
    }

    private RpcMethodDescriptor? FindMethod(string? type) =>
        string.IsNullOrEmpty(type) ? (_service.Methods.Count == 1 ? _service.Methods[0] : null) : _service.FindMethod(type);

    /// <summary>The checks before a request runs; each failure is an error reply with its documented type.</summary>
    private RpcMethodDescriptor Accept(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        if (body.Length > _options.MaxRequestBodySize)
        {
            throw new ErrorReply(WireContract.ErrorTypes.TooLarge,
                $"The request body is {body.Length} bytes; this server accepts at most {_options.MaxRequestBodySize}.");
        }

        var method = ResolveMethod(properties.Type);
        if (WireContract.ReadDeadline(properties.Headers) is long deadline)
        {
            long lateBy = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - deadline;
            if (lateBy > (long)_options.ClockSkewTolerance.TotalMilliseconds)
            {
                throw new ErrorReply(WireContract.ErrorTypes.DeadlineExceeded,
                    $"The request arrived {lateBy} ms after its caller's deadline; it was not run.");
            }
        }

        if (!WireContract.IsAcceptedContentType(properties.ContentType))
        {
            throw new ErrorReply(WireContract.ErrorTypes.UnsupportedContentType,
                $"Content type '{properties.ContentType}' is not supported; send application/json.");
        }

        return method;
    }

    /// <summary>Telemetry that throws (a listener, a log provider) must not cost the caller its reply or the server its ack.</summary>
    private Diagnostics.ServerCallTelemetry? StartTelemetry(IReadOnlyBasicProperties properties, bool redelivered, int bodySize)
    {
        try
        {
            return new Diagnostics.ServerCallTelemetry(_options, _service, _queue, properties, redelivered, bodySize);
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static void Guard<TState>(Diagnostics.ServerCallTelemetry? telemetry, Action<Diagnostics.ServerCallTelemetry, TState> action, TState state)
    {
        if (telemetry is null) return;
        try
        {
            action(telemetry, state);
        }
        catch (Exception)
        {
        }
    }

    private RpcMethodDescriptor ResolveMethod(string? type)
    {
        if (string.IsNullOrEmpty(type))
        {
            if (_service.Methods.Count == 1) return _service.Methods[0];
            throw new ErrorReply(WireContract.ErrorTypes.UnknownMethod,
                $"The request has no 'type' property and service {_service.Name} has {_service.Methods.Count} methods ({MethodNames()}); set 'type' to one of them.");
        }

        return _service.FindMethod(type)
            ?? throw new ErrorReply(WireContract.ErrorTypes.UnknownMethod, $"Service {_service.Name} has no method '{type}'; it has {MethodNames()}.");
    }

    private string MethodNames()
    {
        var names = new List<string>(_service.Methods.Count);
        foreach (var m in _service.Methods) names.Add(m.WireName);
        return string.Join(", ", names);
    }

    /// <summary>
    /// A fault the method declares ([RpcFault]) goes back with its properties in <c>data</c>, logged as expected. If
    /// one of its properties cannot be serialised it is answered like any other exception instead.
    /// </summary>
    private bool TryWriteDeclaredFault(PooledBufferWriter result, RpcMethodDescriptor? method, Exception e, Diagnostics.ServerCallTelemetry? telemetry)
    {
        if (method is null || e is ErrorReply or RpcBadRequestException || RpcFaultDescriptor.Find(method, e) is not { } fault) return false;
        try
        {
            ErrorBody.WriteFault(result, fault, e, _options.JsonSerializerOptions, _options.IncludeExceptionDetails ? e.ToString() : null);
        }
        catch (Exception)
        {
            result.Clear();
            return false;
        }

        Guard(telemetry, static (t, state) => t.Failed(state.e, state.WireType, rejected: false, declaredFault: true), (e, fault.WireType));
        return true;
    }

    /// <summary>
    /// Whether the handler ended because the runtime stopped it rather than because it failed, and how loud to say so:
    /// its token fired (the caller cancelled, the caller's deadline passed, the channel closed, the server is stopping),
    /// or a call it made ended by that same deadline. A timeout of a call it made with its own deadline still standing
    /// is a slow dependency: a warning. Anything else stays a handler failure.
    /// </summary>
    private static (Microsoft.Extensions.Logging.LogLevel Level, string Reason)? StoppedByRuntime(Exception failure, RpcServerCall? served,
        RequestConsumer consumer, DateTimeOffset? callerDeadline)
    {
        const Microsoft.Extensions.Logging.LogLevel Information = Microsoft.Extensions.Logging.LogLevel.Information;
        if (served is null) return null;
        bool deadlinePassed = DeadlinePassed(served, callerDeadline);
        if (failure is OperationCanceledException)
        {
            if (served.CancelledByCaller) return (Information, "its caller cancelled the call");
            if (deadlinePassed) return (Information, "its caller's deadline passed");
            if (consumer.ChannelLost.IsCancellationRequested) return (Information, "its channel closed or the server is stopping; the request goes back to the queue");
            return null;
        }

        if (failure is RpcTimeoutException || IsRemoteStop(failure))
        {
            if (served.CancelledByCaller) return (Information, "its caller cancelled the call, and with it a call the handler made");
            if (deadlinePassed) return (Information, "its caller's deadline passed, ending a call the handler made");
            if (failure is RpcTimeoutException) return (Microsoft.Extensions.Logging.LogLevel.Warning, "a call the handler made timed out before its own caller's deadline");
        }

        return null;
    }

    /// <summary>The caller's deadline is over for this call: its token fired for it, or the clock is past it.</summary>
    private static bool DeadlinePassed(RpcServerCall served, DateTimeOffset? callerDeadline) =>
        served.StoppedByDeadline || callerDeadline is { } deadline && deadline <= DateTimeOffset.UtcNow;

    /// <summary>A call the handler made was stopped on its server (cancelled, or past the deadline it inherited).</summary>
    private static bool IsRemoteStop(Exception failure) =>
        failure is RpcRemoteException remote && remote.RemoteType is WireContract.ErrorTypes.DeadlineExceeded or WireContract.ErrorTypes.Cancelled
            or "System.OperationCanceledException" or "System.Threading.Tasks.TaskCanceledException";

    /// <summary>
    /// The handler ended because its caller's deadline passed (its token, or the stop of a call it made), not because
    /// its caller cancelled or it failed. A call the handler made that timed out, or was made after the deadline, still
    /// answers with its RpcTimeoutException: a plain client waiting past its deadline is told why (wire-format.md).
    /// </summary>
    private static bool EndedByCallersDeadline(Exception failure, RpcServerCall? served, DateTimeOffset? callerDeadline) =>
        served is not null && !served.CancelledByCaller && DeadlinePassed(served, callerDeadline)
        && (failure is OperationCanceledException || IsRemoteStop(failure));

    private static (string Type, string Message) Classify(Exception e) => e switch
    {
        ErrorReply reply => (reply.Type, reply.Message),
        RpcBadRequestException bad => (WireContract.ErrorTypes.BadRequest, bad.Message),
        RpcResultSerializationException failed => (WireContract.ErrorTypes.ServerError, failed.Message),
        _ => (e.GetType().FullName ?? e.GetType().Name, e.Message),
    };

    /// <summary>
    /// Sets <see cref="RpcContext.Current"/> for the handler only. The change lives in this method's execution
    /// context, which ends with it: the caller never sees it, so nothing has to set it back.
    /// </summary>
    private async ValueTask InvokeAsync(RpcServerCall call)
    {
        RpcContext.Current = call.Context;
        if (_interceptors.Length == 0) await _invoke(call).ConfigureAwait(false);
        else await ServerInterception.RunAsync(_interceptors, call, _invoke).ConfigureAwait(false);
    }

    /// <summary>
    /// On <paramref name="channel"/>, the one the request came on: a request delivered by a rebuilt channel before the
    /// holder swapped it in would otherwise be answered on the closed one, and its reply lost while it is acked.
    /// </summary>
    private static async ValueTask PublishReplyAsync(IChannel channel, string replyTo, string? correlationId, bool isError, ReadOnlyMemory<byte> body)
    {
        var properties = new BasicProperties
        {
            CorrelationId = correlationId,
            ContentType = WireContract.JsonContentType,
        };
        // Only an error says so: a reply without the header is a success (as from a plain server), and a success
        // without a header table is less for this server, the broker and the caller to encode and decode.
        if (isError) properties.Headers = new Dictionary<string, object?>(1) { [WireContract.StatusHeader] = WireContract.StatusError };
        try
        {
            // Not mandatory: a caller that is gone (direct reply-to) is the broker's to drop, not ours to retry.
            await channel.BasicPublishAsync(WireContract.DefaultExchange, replyTo, mandatory: false, properties, body).ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelGone(e))
        {
            // The request went with its channel: the broker redelivers it.
        }
    }
}
