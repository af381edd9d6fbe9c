using System;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Diagnostics;

/// <summary>
/// The server span, metrics, failure logs (and, at Debug, success log) of one request. The span continues the caller's trace from the request's
/// <c>traceparent</c> header and is <see cref="Activity.Current"/> while the handler runs, so the handler's own spans
/// nest under it.
/// </summary>
internal sealed class ServerCallTelemetry
{
    private readonly RpcSettings _options;
    private readonly RpcServiceDescriptor _service;
    private readonly string _queue;
    private readonly IReadOnlyBasicProperties _properties;
    private readonly int _bodySize;
    private readonly string _methodName;
    private readonly Activity? _activity;
    private readonly bool _metrics;
    private readonly bool _logSuccess;
    private readonly long _started;
    private string? _errorType;

    public ServerCallTelemetry(RpcSettings options, RpcServiceDescriptor service, string queue, IReadOnlyBasicProperties properties,
        bool redelivered, int bodySize)
    {
        _options = options;
        _service = service;
        _queue = queue;
        _properties = properties;
        _bodySize = bodySize;
        _methodName = KnownMethod(service, properties.Type)?.WireName ?? RpcTelemetry.OtherMethod;
        _metrics = RpcTelemetry.ServerMetricsEnabled;
        _logSuccess = options.Loggers.Server.IsEnabled(LogLevel.Debug);
        _started = _metrics || _logSuccess ? Stopwatch.GetTimestamp() : 0;

        if (RpcTelemetry.Source.HasListeners())
        {
            var name = service.Name + "/" + _methodName;
            var current = Activity.Current;
            // RabbitMQ.Client's own deliver span, when enabled, already continues the caller's trace: nest under it.
            _activity = RpcTelemetry.TryExtractTraceContext(properties.Headers, out var caller) && current?.TraceId != caller.TraceId
                ? RpcTelemetry.Source.StartActivity(name, ActivityKind.Server, caller)
                : RpcTelemetry.Source.StartActivity(name, ActivityKind.Server);
            if (_activity is { IsAllDataRequested: true })
            {
                _activity.SetTag(RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem);
                _activity.SetTag(RpcTelemetry.RpcServiceTag, service.Name);
                _activity.SetTag(RpcTelemetry.RpcMethodTag, _methodName);
                _activity.SetTag(RpcTelemetry.MessagingSystemTag, RpcTelemetry.MessagingSystem);
                _activity.SetTag(RpcTelemetry.MessagingOperationTypeTag, "process");
                _activity.SetTag(RpcTelemetry.MessagingDestinationTag, queue);
                _activity.SetTag(RpcTelemetry.RoutingKeyTag, queue);
                if (properties.CorrelationId is not null) _activity.SetTag(RpcTelemetry.ConversationIdTag, properties.CorrelationId);
                _activity.SetTag(RpcTelemetry.BodySizeTag, bodySize);
                if (redelivered) _activity.SetTag(RpcTelemetry.RedeliveredTag, true);
            }
        }

        if (_metrics) RpcTelemetry.ServerActive.Add(1, MetricTags());
    }

    /// <summary>
    /// Records that the request was answered with an error reply. <paramref name="rejected"/>: the request itself can
    /// never succeed (poison), as opposed to a handler that threw. <paramref name="handedOff"/>: one-way work or an event,
    /// whose retry or dead letter logs the failure instead (a Warning per retry, one Error when it is given up).
    /// </summary>
    public void Failed(string errorType, string message, Exception? exception, bool rejected, bool declaredFault = false, bool handedOff = false,
        (LogLevel Level, string Reason)? stopped = null)
    {
        _errorType = errorType;
        if (_activity is not null)
        {
            _activity.SetStatus(ActivityStatusCode.Error, message);
            _activity.SetTag(RpcTelemetry.ErrorTypeTag, errorType);
            _activity.SetTag(RpcTelemetry.RpcStatusTag, errorType);
        }

        var logger = _options.Loggers.Server;
        if (declaredFault)
        {
            // Part of the contract ([RpcFault]): the caller expects it, so it is information, without a stack trace.
            RpcLog.DeclaredFaultReturned(logger, _service.Name, _methodName, _queue, _properties.CorrelationId, errorType, message);
        }
        else if (errorType == WireContract.ErrorTypes.DeadlineExceeded || errorType == WireContract.ErrorTypes.Cancelled)
        {
            // Late, not malformed: the caller has given up, which says the server is behind rather than the request is bad.
            RpcLog.RequestExpired(logger, _service.Name, _methodName, _queue, _properties.CorrelationId, message);
        }
        else if (stopped is { } stop)
        {
            // The runtime ended the handler (cancel, deadline, channel, shutdown): routine, not an operator's problem.
            if (logger.IsEnabled(stop.Level)) RpcLog.HandlerStopped(logger, stop.Level, _service.Name, _methodName, _queue, _properties.CorrelationId, stop.Reason, errorType);
        }
        else if (rejected)
        {
            RpcLog.PoisonMessageRejected(logger, _service.Name, _queue, _properties.Type, _properties.CorrelationId, _bodySize, errorType, message);
        }
        else if (!handedOff && exception is not null && logger.IsEnabled(LogLevel.Error))
        {
            RpcLog.HandlerFailed(logger, exception, _service.Name, _methodName, _queue, _properties.CorrelationId, errorType);
        }
    }

    /// <summary>Ends the span and records the request, once it is answered and acked.</summary>
    public void Stop()
    {
        if (_activity is not null)
        {
            if (_errorType is null) _activity.SetTag(RpcTelemetry.RpcStatusTag, RpcTelemetry.StatusOk);
            _activity.Stop();
        }

        if (_logSuccess && _errorType is null)
        {
            RpcLog.RequestHandled(_options.Loggers.Server, _service.Name, _methodName, _queue, _properties.CorrelationId,
                Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        }

        if (!_metrics) return;
        var tags = MetricTags();
        RpcTelemetry.ServerActive.Add(-1, tags);
        if (_errorType is not null) tags.Add(RpcTelemetry.ErrorTypeTag, _errorType);
        RpcTelemetry.ServerDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        if (_errorType is not null) RpcTelemetry.ServerErrors.Add(1, tags);
    }

    private TagList MetricTags() => new()
    {
        { RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem },
        { RpcTelemetry.RpcServiceTag, _service.Name },
        { RpcTelemetry.RpcMethodTag, _methodName },
    };

    /// <summary>The method the request names, by the server's rules (no type on a one-method service means that method).</summary>
    private static RpcMethodDescriptor? KnownMethod(RpcServiceDescriptor service, string? type) =>
        string.IsNullOrEmpty(type)
            ? service.Methods.Count == 1 ? service.Methods[0] : null
            : service.FindMethod(type);
}
