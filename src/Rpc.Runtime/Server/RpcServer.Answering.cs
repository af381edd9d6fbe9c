using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Server;
using RpcGen.Server.Requests;
using RpcGen.Wire;

namespace RpcGen;

// One delivery, start to finish: accept or refuse it, invoke the handler, let the request's strategy decide the
// outcome, deliver it, settle the delivery. What differs per kind of request is in Server/Requests.
public sealed partial class RpcServer
{
    private readonly Func<RpcServerCall, ValueTask> _invoke;
    private readonly IRpcServerInterceptor[] _interceptors;
    private readonly RunningCalls _running;
    private RequestStrategies _strategies = null!;
    private ServerStreamSettings _streams = null!;
    private OrderedRetry _orderedRetry = null!;
    private long _served;

    /// <summary>Requests answered (or acked without an answer) since the server started.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>The calls running and the early cancels remembered (tests read and bound them).</summary>
    internal RunningCalls RunningCalls => _running;

    /// <summary>Builds what answering needs once the server's confirmed channel and failed-work handling exist.</summary>
    private void PrepareAnswering()
    {
        _replies = new ReplyPublisher(_confirmed, _options, _service.Name, () => _queue);
        var errors = new ErrorReplies(_options);
        _streams = new ServerStreamSettings(_replies, errors, _options.StreamWindow, _options.MaxStreamWindow, _options.StreamBatchSize, _options.StreamIdleTimeout,
            _options.TimeProvider);
        _strategies = new RequestStrategies(_service, subscription: _subscription is not null, _replies, errors);
        _orderedRetry = new OrderedRetry(_failedWork, _options, _service.Name, () => _queue, () => _stopping);
    }

    internal async Task HandleAsync(RequestConsumer consumer, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        // Counted in flight by Dispatch, before it left the consumer dispatcher.
        var acks = consumer.Acks;
        acks.Delivered(deliveryTag);
        // Every delivery is settled exactly once, here, whatever throws above: acked once answered (or once answering
        // failed for good, so a request that breaks the server is not redelivered in a loop), given back unanswered
        // only when the server is stopping.
        bool requeue = true;
        bool failed = false;
        try
        {
            if (_stopping && !_answeringLeftBatches) return; // arrived while stopping: give it back for another server
            requeue = false;
            requeue = !await (CallBatch.IsBatch(properties.ContentType)
                ? AnswerBatchAsync(consumer, redelivered, exchange, routingKey, properties, body)
                : AnswerAsync(consumer, redelivered, exchange, routingKey, properties, body, batchItem: null)).ConfigureAwait(false);
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
                _inFlight.Exit();
            }
        }
    }

    /// <summary>
    /// Accept, invoke, outcome, deliver: false when the delivery must go back to the queue instead of being acked. A
    /// request of a batch has <paramref name="batchItem"/>, the strategy that hands its reply to the batch.
    /// </summary>
    private async Task<bool> AnswerAsync(RequestConsumer consumer, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, RequestStrategy? batchItem)
    {
        var method = FindMethod(properties.Type);
        var strategy = _strategies.For(method, !string.IsNullOrEmpty(properties.ReplyTo), batchItem);
        if (strategy.ChecksReplyQueue && RefusesReplyQueue(properties)) return true;
        var history = WorkHistory.Of(properties, exchange, routingKey, _failedWork.ServerUser);
        using var request = new ServerRequest(consumer, properties, body, redelivered, history, StartTelemetry(properties, redelivered, body.Length));
        _replies.MessageLimit.Delivered(body.Length);
        var failure = Accept(request, method);
        // Refused before it ran, a request counts as of no known method: one nobody can be told about is handed off.
        if (failure is not null) strategy = _strategies.For(method: null, request.HasReplyTo, batchItem);
        while (failure is null)
        {
            if ((failure = await RunAsync(request).ConfigureAwait(false)) is not { } failed || !strategy.RetriesInPlace
                || !await _orderedRetry.TryAgainAsync(request, failed).ConfigureAwait(false)) break;
            failure = Accept(request, method);
        }

        var outcome = strategy.Conclude(request, failure);
        if (outcome.Kind == CallOutcomeKind.HandOff) outcome = await HandOffAsync(request, outcome.Failure!.Value).ConfigureAwait(false);
        // A request whose channel the broker closed is back in the queue and will be answered from there.
        if (outcome.Kind is CallOutcomeKind.Reply or CallOutcomeKind.Fault && request.HasReplyTo && consumer.Channel.IsOpen)
        {
            await strategy.DeliverAsync(request, outcome).ConfigureAwait(false);
        }

        request.Stop();
        if (outcome.Kind == CallOutcomeKind.Requeue) return false;
        Interlocked.Increment(ref _served);
        return true;
    }

    /// <summary>One run of the handler; the failure, or null when it returned.</summary>
    private async ValueTask<CallFailure?> RunAsync(ServerRequest request)
    {
        var method = request.Method!;
        var history = request.History;
        var properties = request.Properties;
        var context = new RpcContext(_service.Name, method.WireName, properties.CorrelationId, history.UserId,
            request.Redelivered || history.Repeat || request.Retries > 0, request.CallerDeadline, properties.Headers) { MessageId = properties.MessageId };
        // The routing key as first published (a retried copy carries it in a header only the server's own copies are believed for).
        var call = request.Call = new RpcServerCall(method, request, context, _options.JsonSerializerOptions, history.RoutingKey, _streams);
        bool tracked = _running.Track(call);
        try
        {
            await InvokeAsync(call).ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            request.Result.Clear();
            return CallFailure.Of(e);
        }
        finally
        {
            if (tracked) _running.Untrack(call);
            call.Complete();
        }
    }

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
    /// Nobody to tell: the work is retried or dead-lettered (dropped, with an Error, only if the broker keeps refusing
    /// the copy). Left with the broker (no confirm in time, or the connection is gone), it goes back to the queue.
    /// </summary>
    private async Task<CallOutcome> HandOffAsync(ServerRequest request, CallFailure failure)
    {
        bool retryable = failure.Retryable && request.Call?.RefusedByInterceptor != true && !_service.Ordered;
        var failed = new FailedDelivery(request.Properties, request.Body, request.Method?.WireName ?? Diagnostics.RpcTelemetry.OtherMethod,
            request.History with { Retries = request.Retries }, retryable, failure.Type, failure.Message, failure.Exception);
        if (await _failedWork.HandOffAsync(failed, request.Channel, request.Consumer.ChannelLost.Token).ConfigureAwait(false)) return CallOutcome.None;
        // A pause first, so a broker that cannot take a copy now is not asked again at once.
        await Task.Delay(HandOffRetryPause).ConfigureAwait(false);
        return CallOutcome.Requeue;
    }

    private static readonly TimeSpan HandOffRetryPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A reply goes out with this server's broker rights through the default exchange, which reaches every queue: only
    /// the caller's own kind of reply queue is answered (RpcServerOptions.AllowedReplyQueuePrefixes), or a caller could make
    /// the server write into any queue. True (logged, to be acked unrun) when the request names another queue.
    /// </summary>
    private bool RefusesReplyQueue(IReadOnlyBasicProperties properties)
    {
        var replyTo = properties.ReplyTo;
        if (string.IsNullOrEmpty(replyTo) || _options.IsAllowedReplyQueue(replyTo)) return false;
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

    /// <summary>
    /// The checks before a request runs, which set its method (<paramref name="method"/>, null when the request names
    /// none this service has); each failure is an error with its documented type. A request its caller cancelled while
    /// it was queued is refused too.
    /// </summary>
    private CallFailure? Accept(ServerRequest request, RpcMethodDescriptor? method)
    {
        var properties = request.Properties;
        if (request.Body.Length > _options.MaxRequestBodySize)
        {
            return CallFailure.Refused(WireContract.ErrorTypes.TooLarge,
                $"The request body is {request.Body.Length} bytes; this server accepts at most {_options.MaxRequestBodySize}.");
        }

        if (method is null) return UnknownMethod(properties.Type);
        if (WireContract.ReadDeadline(properties.Headers) is long deadline)
        {
            long lateBy = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() - deadline;
            if (lateBy > (long)_options.ClockSkewTolerance.TotalMilliseconds)
            {
                return CallFailure.Refused(WireContract.ErrorTypes.DeadlineExceeded,
                    $"The request arrived {lateBy} ms after its caller's deadline; it was not run.");
            }
        }

        if (!WireContract.IsAcceptedContentType(properties.ContentType))
        {
            return CallFailure.Refused(WireContract.ErrorTypes.UnsupportedContentType,
                $"Content type '{properties.ContentType}' is not supported; send application/json.");
        }

        request.Method = method;
        return _running.WasCancelled(properties.CorrelationId, properties.UserId)
            ? CallFailure.Refused(WireContract.ErrorTypes.Cancelled, "The caller cancelled the call before it ran; it was not run.")
            : null;
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

    private CallFailure UnknownMethod(string? type) => string.IsNullOrEmpty(type)
        ? CallFailure.Refused(WireContract.ErrorTypes.UnknownMethod,
            $"The request has no 'type' property and service {_service.Name} has {_service.Methods.Count} methods ({MethodNames()}); set 'type' to one of them.")
        : CallFailure.Refused(WireContract.ErrorTypes.UnknownMethod, $"Service {_service.Name} has no method '{type}'; it has {MethodNames()}.");

    private string MethodNames()
    {
        var names = new List<string>(_service.Methods.Count);
        foreach (var m in _service.Methods) names.Add(m.WireName);
        return string.Join(", ", names);
    }
}
