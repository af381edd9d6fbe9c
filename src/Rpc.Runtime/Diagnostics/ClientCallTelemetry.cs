using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace RpcGen.Diagnostics;

/// <summary>
/// The client span, metrics, failure log (and, at Debug, success log) of one call. Created only when someone observes
/// (a listener on the ActivitySource or Meter, an ambient trace to propagate, or a logger taking warnings), so an
/// unobserved call pays one check.
/// </summary>
internal sealed class ClientCallTelemetry
{
    private readonly RpcSettings _options;
    private readonly RpcMethodDescriptor _method;
    private readonly string _queue;
    private readonly string? _correlationId;
    private readonly Activity? _activity;
    private readonly Activity? _callerActivity;
    private readonly Activity? _propagated;
    private readonly bool _metrics;
    private readonly bool _observesCompletion;
    private readonly bool _logSuccess;
    private readonly long _started;

    private ClientCallTelemetry(RpcSettings options, RpcMethodDescriptor method, string queue, string? correlationId, bool oneWay,
        Activity? callerActivity)
    {
        _options = options;
        _method = method;
        _queue = queue;
        _correlationId = correlationId;
        _callerActivity = callerActivity;
        _metrics = RpcTelemetry.ClientMetricsEnabled;
        _started = Stopwatch.GetTimestamp();

        // Producer for one-way sends (messaging conventions), Client for request/reply (RPC conventions).
        _activity = RpcTelemetry.Source.StartActivity(method.Service.Name + "/" + method.WireName,
            oneWay ? ActivityKind.Producer : ActivityKind.Client);
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag(RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem);
            _activity.SetTag(RpcTelemetry.RpcServiceTag, method.Service.Name);
            _activity.SetTag(RpcTelemetry.RpcMethodTag, method.WireName);
            _activity.SetTag(RpcTelemetry.MessagingSystemTag, RpcTelemetry.MessagingSystem);
            _activity.SetTag(RpcTelemetry.MessagingOperationTypeTag, "send");
            _activity.SetTag(RpcTelemetry.MessagingDestinationTag, queue);
            _activity.SetTag(RpcTelemetry.RoutingKeyTag, queue);
            if (correlationId is not null) _activity.SetTag(RpcTelemetry.ConversationIdTag, correlationId);
            _activity.SetTag(RpcTelemetry.ServerAddressTag, options.Uri.Host);
            _activity.SetTag(RpcTelemetry.ServerPortTag, options.Uri.Port > 0 ? options.Uri.Port : options.Uri.Scheme == "amqps" ? 5671 : 5672);
        }

        _propagated = _activity ?? callerActivity;
        if (_metrics) RpcTelemetry.ClientActive.Add(1, MetricTags());
        // Debug implies Information: when success is logged, cancels, declared faults and failures are too.
        _logSuccess = options.Loggers.Client.IsEnabled(LogLevel.Debug);
        _observesCompletion = _activity is not null || _metrics || _logSuccess || options.Loggers.Client.IsEnabled(LogLevel.Information);
    }

    /// <summary>Whether the request must carry a trace context (a span of the caller's or of RpcGen's is recorded).</summary>
    public bool PropagatesTraceContext => _propagated is not null;

    /// <summary>Writes the trace context (the client span's, else the caller's) into the request headers.</summary>
    public void InjectTraceContext(IDictionary<string, object?> headers)
    {
        if (_propagated is not null) RpcTelemetry.InjectTraceContext(_propagated, headers);
    }

    /// <summary>
    /// Starts observing a call, or returns <see langword="null"/> when nothing would see it. The client span stays
    /// <see cref="Activity.Current"/> until <see cref="Track{T}"/> or <see cref="Complete"/>, so that the publish
    /// (and RabbitMQ.Client's own span, if enabled) happens inside it.
    /// </summary>
    public static ClientCallTelemetry? Start(RpcSettings options, RpcMethodDescriptor method, string queue, string? correlationId, bool oneWay = false)
    {
        var caller = Activity.Current;
        if (caller is null && !RpcTelemetry.Source.HasListeners() && !RpcTelemetry.ClientMetricsEnabled
            && !options.Loggers.Client.IsEnabled(LogLevel.Information))
        {
            return null;
        }

        return new ClientCallTelemetry(options, method, queue, correlationId, oneWay, caller);
    }

    /// <summary>The call's task, which completes after the span and metrics are recorded.</summary>
    public Task<T> Track<T>(Task<T> call)
    {
        // The generated client method is not async: without this the span would stay current in the caller's flow.
        Activity.Current = _callerActivity;
        if (!_observesCompletion) return call;
        if (call.IsCompletedSuccessfully)
        {
            Complete(null);
            return call;
        }

        return TrackAsync(call);
    }

    private async Task<T> TrackAsync<T>(Task<T> call)
    {
        try
        {
            var result = await call.ConfigureAwait(false);
            Complete(null);
            return result;
        }
        catch (Exception e)
        {
            Complete(e);
            throw;
        }
    }

    /// <summary>Ends the span and records the call; <paramref name="failure"/> is <see langword="null"/> on success.</summary>
    public void Complete(Exception? failure)
    {
        if (Activity.Current == _activity) Activity.Current = _callerActivity;
        // The caller's own cancellation is an outcome like the others (span status, error counter, a log event), at
        // information level: the caller chose it. So is a fault the method declares.
        var cancelled = failure is OperationCanceledException;
        var declared = failure is not null && !cancelled && RpcFaultDescriptor.Find(_method, failure) is not null;
        string? errorType = failure is null ? null : cancelled ? RpcTelemetry.Cancelled : RpcTelemetry.ErrorType(failure);
        if (_activity is not null)
        {
            if (errorType is not null)
            {
                _activity.SetStatus(ActivityStatusCode.Error, cancelled ? "cancelled by the caller" : failure!.Message);
                _activity.SetTag(RpcTelemetry.ErrorTypeTag, errorType);
                _activity.SetTag(RpcTelemetry.RpcStatusTag, errorType);
            }
            else
            {
                _activity.SetTag(RpcTelemetry.RpcStatusTag, RpcTelemetry.StatusOk);
            }

            _activity.Stop();
        }

        if (_metrics)
        {
            var tags = MetricTags();
            RpcTelemetry.ClientActive.Add(-1, tags);
            if (errorType is not null) tags.Add(RpcTelemetry.ErrorTypeTag, errorType);
            RpcTelemetry.ClientDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
            if (errorType is not null) RpcTelemetry.ClientErrors.Add(1, tags);
        }

        if (failure is null && _logSuccess)
        {
            RpcLog.CallSucceeded(_options.Loggers.Client, _method.Service.Name, _method.WireName, _queue, _correlationId,
                Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        }

        if (errorType is null) return;
        var logger = _options.Loggers.Client;
        if (cancelled)
        {
            RpcLog.CallCancelled(logger, _method.Service.Name, _method.WireName, _queue, _correlationId, (long)Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        }
        else if (declared)
        {
            RpcLog.CallFaulted(logger, _method.Service.Name, _method.WireName, _queue, _correlationId, errorType, failure!.Message);
        }
        else
        {
            var message = failure is RpcRemoteException remote ? remote.RemoteMessage : failure!.Message;
            RpcLog.CallFailed(logger, _method.Service.Name, _method.WireName, _queue, _correlationId, errorType, message);
        }
    }

    private TagList MetricTags() => new()
    {
        { RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem },
        { RpcTelemetry.RpcServiceTag, _method.Service.Name },
        { RpcTelemetry.RpcMethodTag, _method.WireName },
    };
}
