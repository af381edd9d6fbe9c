using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Wire;

namespace RpcGen;

/// <summary>
/// Serves one service from its queue until disposed: consumes with a prefetch limit and manual acks, runs up to
/// prefetch calls at once, publishes each reply and then acks. Every request is acked once answered, including
/// those that cannot be read, so a poison message is never redelivered in a loop. A one-way request whose handler
/// throws is retried and then dead-lettered (<see cref="FailedWork"/>), never dropped.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    private readonly IChannel _channel;
    private readonly RpcOptions _options;
    private readonly RpcServiceDescriptor _service;
    private readonly string _queue;
    private readonly Func<RpcServerCall, ValueTask> _invoke;
    private readonly CancellationTokenSource _abort = new();
    private readonly Acknowledgements _acks;
    private readonly FailedWork _failedWork;
    private readonly RunningCalls _running = new();
    private readonly IRpcServerInterceptor[] _interceptors;
    private ControlListener? _control;
    private string? _consumerTag;
    private int _inFlight;
    private volatile bool _stopping;
    private int _disposed;
    private long _served;

    private RpcServer(IChannel channel, RpcOptions options, RpcServiceDescriptor service, string queue, Func<RpcServerCall, ValueTask> invoke,
        FailedWork failedWork)
    {
        _failedWork = failedWork;
        _channel = channel;
        _options = options;
        _service = service;
        _queue = queue;
        _invoke = invoke;
        _interceptors = System.Linq.Enumerable.ToArray(options.ServerInterceptors);
        _acks = new Acknowledgements(channel, options.CoalesceAcks);
    }

    /// <summary>The queue this server consumes.</summary>
    public string Queue => _queue;

    /// <summary>Calls being served right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Handlers whose token a caller's cancel fired, plus queued requests refused unrun because their caller cancelled.</summary>
    internal long CancelledByCallers => _running.CancelledCount;

    /// <summary>Requests answered (or acked without an answer) since the server started.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Ack and nack frames written, a multiple ack counted once; fewer than the requests settled when acks are coalesced.</summary>
    internal long SettlementFrames => _acks.FramesSent;

    /// <summary>Deliveries acked or requeued so far.</summary>
    internal long Settled => _acks.Settled;

    /// <summary>Where one-way requests whose handler kept failing, or that can never succeed, are moved: <c>{queue}.dead-letter</c>.</summary>
    public string DeadLetterQueue => _failedWork.DeadLetterQueue;

    /// <summary>One-way requests put back in the queue for another try since the server started.</summary>
    public long Retried => _failedWork.Retried;

    /// <summary>One-way requests moved to <see cref="DeadLetterQueue"/> since the server started.</summary>
    public long DeadLettered => _failedWork.DeadLettered;

    internal static async Task<RpcServer> StartAsync(IConnection connection, RpcOptions options, RpcServiceDescriptor service,
        Func<RpcServerCall, ValueTask> invoke, CancellationToken cancellationToken)
    {
        // Dispatch concurrency equal to prefetch: every request the broker hands us runs at once, and no more. An
        // ordered service takes one at a time, so the next request is not even delivered before this one is settled.
        ushort prefetch = service.Ordered ? (ushort)1 : options.Prefetch;
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                consumerDispatchConcurrency: prefetch),
            cancellationToken).ConfigureAwait(false);
        var queue = options.QueueFor(service);
        try
        {
            await Transport.QueueDeclarations.DeclareDurableAsync(channel, options, queue, service.Name, cancellationToken,
                singleActiveConsumer: service.Ordered).ConfigureAwait(false);
            await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken).ConfigureAwait(false);
            var failedWork = new FailedWork(connection, options, service.Name, queue);
            var server = new RpcServer(channel, options, service, queue, invoke, failedWork);
            // The control path first: a cancel for a request this server is about to take must find it listening.
            server._control = await ControlListener.StartAsync(connection, queue, server._running, cancellationToken).ConfigureAwait(false);
            server._consumerTag = await channel.BasicConsumeAsync(queue, autoAck: false, new RequestConsumer(server, channel), cancellationToken)
                .ConfigureAwait(false);
            return server;
        }
        catch (RpcException)
        {
            channel.Dispose();
            throw;
        }
        catch (OperationInterruptedException e)
        {
            channel.Dispose();
            throw new RpcException($"Cannot serve {service.Name} on queue '{queue}': {e.ShutdownReason?.ReplyText ?? e.Message}", service.Name, null, e);
        }
    }

    private async Task HandleAsync(ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (_stopping)
            {
                // Arrived while stopping: give it back for another server.
                await _acks.RequeueAsync(deliveryTag).ConfigureAwait(false);
                return;
            }

            var telemetry = new Diagnostics.ServerCallTelemetry(_options, _service, _queue, properties, redelivered, body.Length);
            // Pooled: the reply body is written, published and given back without a buffer allocated per call.
            using var result = new PooledBufferWriter();
            RpcMethodDescriptor? method = null;
            Exception? failure;
            int retries = WireContract.ReadRetries(properties.Headers);
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

                    DateTimeOffset? callerDeadline = WireContract.ReadDeadline(properties.Headers) is long deadline
                        ? DateTimeOffset.FromUnixTimeMilliseconds(deadline)
                        : null;
                    var context = new RpcContext(_service.Name, method.WireName, properties.CorrelationId, properties.UserId, redelivered || retries > 0,
                        callerDeadline, properties.Headers);
                    var call = new RpcServerCall(method, body, _options.JsonSerializerOptions, result, context, _abort.Token);
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
                }
                catch (Exception e)
                {
                    failure = e;
                    result.Clear();
                }

                // An ordered service retries in place: sent to the back of the queue, the work would overtake nothing but be overtaken.
                if (failure is null || !_service.Ordered || method?.OneWay != true || !IsRetryable(failure) || retries >= _options.RetryLimit || _stopping) break;
                retries++;
                Diagnostics.RpcLog.WorkRetried(_options.Loggers.Server, _service.Name, method.WireName, _queue, retries, _options.RetryLimit,
                    Classify(failure).Type, failure.Message);
            }

            if (failure is not null && method?.OneWay != true && TryWriteDeclaredFault(result, method, failure, telemetry))
            {
                // A fault the method declares: written with its data, logged as expected.
            }
            else if (failure is not null)
            {
                var (type, message) = Classify(failure);
                telemetry.Failed(failure, type, rejected: !IsRetryable(failure));
                if (method?.OneWay == true || (method is null && string.IsNullOrEmpty(properties.ReplyTo)))
                {
                    // Nobody to tell: the work is retried or dead-lettered, never dropped.
                    var failed = new FailedDelivery(properties, body, exchange, routingKey, method?.WireName ?? Diagnostics.RpcTelemetry.OtherMethod,
                        retries, IsRetryable(failure) && !_service.Ordered, type, message);
                    if (!await _failedWork.HandOffAsync(failed).ConfigureAwait(false))
                    {
                        // Left with the broker; a pause first, so a broker that refuses every copy is not asked again at once.
                        await Task.Delay(HandOffRetryPause).ConfigureAwait(false);
                        await _acks.RequeueAsync(deliveryTag).ConfigureAwait(false);
                        telemetry.Stop();
                        return;
                    }
                }
                else
                {
                    ErrorBody.Write(result, type, message, _options.IncludeExceptionDetails && IsRetryable(failure) ? failure.ToString() : null);
                }
            }

            if (!string.IsNullOrEmpty(properties.ReplyTo) && method?.OneWay != true)
            {
                await PublishReplyAsync(properties.ReplyTo!, properties.CorrelationId, failure is not null, result.WrittenMemory).ConfigureAwait(false);
            }

            await _acks.AckAsync(deliveryTag).ConfigureAwait(false);
            telemetry.Stop();
            Interlocked.Increment(ref _served);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static readonly TimeSpan HandOffRetryPause = TimeSpan.FromSeconds(1);

    /// <summary>Whether trying again could help: the handler threw, as opposed to input that can never succeed.</summary>
    private static bool IsRetryable(Exception e) => e is not ErrorReply and not RpcBadRequestException;

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
    private bool TryWriteDeclaredFault(PooledBufferWriter result, RpcMethodDescriptor? method, Exception e, Diagnostics.ServerCallTelemetry telemetry)
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

        telemetry.Failed(e, fault.WireType, rejected: false, declaredFault: true);
        return true;
    }

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

    private async ValueTask PublishReplyAsync(string replyTo, string? correlationId, bool isError, ReadOnlyMemory<byte> body)
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
            await _channel.BasicPublishAsync(WireContract.DefaultExchange, replyTo, mandatory: false, properties, body).ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelGone(e))
        {
            // The request stays unacked, so the broker redelivers it.
        }
    }

    /// <summary>The failures that mean the channel is gone, taking its unsettled deliveries with it (the broker redelivers them).</summary>
    internal static bool IsChannelGone(Exception e) => e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException;

    /// <summary>A failed reply or ack after a lost channel must not crash the consumer; the broker redelivers unacked requests.</summary>
    private static async Task SafeAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelGone(e))
        {
        }
    }

    /// <summary>
    /// Stops taking requests, waits up to <see cref="RpcOptions.DrainTimeout"/> for calls in flight to be answered and
    /// acked, then closes the channel; requests not yet started go back to the queue for other servers.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        if (_consumerTag is not null)
        {
            await SafeAsync(() => _channel.BasicCancelAsync(_consumerTag)).ConfigureAwait(false);
        }

        var deadline = DateTime.UtcNow + _options.DrainTimeout;
        while (InFlight > 0 && DateTime.UtcNow < deadline) await Task.Delay(10).ConfigureAwait(false);
        if (InFlight > 0)
        {
            _abort.Cancel();
            var hardDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (InFlight > 0 && DateTime.UtcNow < hardDeadline) await Task.Delay(10).ConfigureAwait(false);
        }

        // Answered requests whose acks are still queued must be acked before the channel closes, or they would be redelivered.
        await _acks.WhenSentAsync().ConfigureAwait(false);
        if (_control is not null) await _control.CloseAsync().ConfigureAwait(false);
        await SafeAsync(() => _channel.CloseAsync()).ConfigureAwait(false);
        _channel.Dispose();
        await _failedWork.CloseAsync().ConfigureAwait(false);
        _abort.Dispose();
    }

    /// <summary>An error reply the runtime itself decides on, with its documented type.</summary>
    private sealed class ErrorReply : Exception
    {
        public ErrorReply(string type, string message) : base(message) => Type = type;
        public string Type { get; }
    }

    private sealed class RequestConsumer : AsyncDefaultBasicConsumer
    {
        private readonly RpcServer _server;

        public RequestConsumer(RpcServer server, IChannel channel) : base(channel) => _server = server;

        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
            _server.HandleAsync(deliveryTag, redelivered, exchange, routingKey, properties, body);
    }
}
