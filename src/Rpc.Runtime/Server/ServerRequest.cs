using System;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// One delivered request on its way through the server (accept, invoke, outcome, deliver): what the broker handed over,
/// what the request says about its past and its caller's deadline, the buffer its reply is written to, and its telemetry.
/// A request of a batch is one of these too, with the batch's reply_to.
/// </summary>
internal sealed class ServerRequest : IDisposable
{
    public ServerRequest(RequestConsumer consumer, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, bool redelivered,
        WorkHistory history, ServerCallTelemetry? telemetry)
    {
        Consumer = consumer;
        Properties = properties;
        Body = body;
        Redelivered = redelivered;
        History = history;
        Retries = history.Retries;
        Telemetry = telemetry;
        CallerDeadline = WireContract.ReadDeadline(properties.Headers) is long deadline ? DateTimeOffset.FromUnixTimeMilliseconds(deadline) : null;
    }

    /// <summary>The consumer of the channel the request came on: its reply goes out there, and its settlement is that channel's.</summary>
    public RequestConsumer Consumer { get; }

    /// <summary>
    /// The channel the request was delivered on, which its reply or stream goes out on: during a rebuild the holder
    /// still hands out the closed channel while the new one already delivers.
    /// </summary>
    public IChannel Channel => Consumer.Channel;

    public IReadOnlyBasicProperties Properties { get; }

    public ReadOnlyMemory<byte> Body { get; }

    public bool Redelivered { get; }

    public WorkHistory History { get; }

    /// <summary>How often the work has been retried, by earlier deliveries and by the ordered-retry policy in place.</summary>
    public int Retries { get; set; }

    public DateTimeOffset? CallerDeadline { get; }

    public bool HasReplyTo => !string.IsNullOrEmpty(Properties.ReplyTo);

    /// <summary>The method, once the request was accepted.</summary>
    public RpcMethodDescriptor? Method { get; set; }

    /// <summary>The latest run of the handler; null when the request was refused before it ran.</summary>
    public RpcServerCall? Call { get; set; }

    /// <summary>Pooled: the reply body is written, published and given back without a buffer allocated per call.</summary>
    public PooledBufferWriter Result { get; } = new();

    /// <summary>Null when starting it threw: telemetry that throws must not cost the caller its reply or the server its ack.</summary>
    public ServerCallTelemetry? Telemetry { get; }

    /// <summary>Records the failure (logs, span, metrics) unless telemetry throws.</summary>
    public void Failed(CallFailure failure, bool handedOff)
    {
        if (Telemetry is null) return;
        try
        {
            Telemetry.Failed(failure.Type, failure.Message, failure.Exception, rejected: !failure.Retryable, handedOff: handedOff,
                stopped: StoppedByRuntime(failure));
        }
        catch (Exception)
        {
        }
    }

    /// <summary>Records a fault the method declares: part of the contract, logged as expected.</summary>
    public void FailedWithDeclaredFault(CallFailure failure, string wireType)
    {
        if (Telemetry is null) return;
        try
        {
            Telemetry.Failed(wireType, failure.Message, failure.Exception, rejected: false, declaredFault: true);
        }
        catch (Exception)
        {
        }
    }

    /// <summary>The request is done with: its span ends and it is counted.</summary>
    public void Stop()
    {
        try
        {
            Telemetry?.Stop();
        }
        catch (Exception)
        {
        }
    }

    /// <summary>
    /// The handler ended because its caller's deadline passed (its token, or the stop of a call it made), not because
    /// its caller cancelled or it failed. A call the handler made that timed out, or was made after the deadline, still
    /// answers with its RpcTimeoutException: a plain client waiting past its deadline is told why (wire-format.md).
    /// </summary>
    public bool EndedByCallersDeadline(CallFailure failure) =>
        Call is { } call && !call.CancelledByCaller && DeadlinePassed(call)
        && (failure.Exception is OperationCanceledException || IsRemoteStop(failure.Exception));

    /// <summary>
    /// Whether the handler ended because the runtime stopped it rather than because it failed, and how loud to say so:
    /// its token fired (the caller cancelled, the caller's deadline passed, the channel closed, the server is stopping),
    /// or a call it made ended by that same deadline. A timeout of a call it made with its own deadline still standing
    /// is a slow dependency: a warning. Anything else stays a handler failure.
    /// </summary>
    private (LogLevel Level, string Reason)? StoppedByRuntime(CallFailure failure)
    {
        if (Call is not { } call || failure.Exception is not { } exception) return null;
        bool deadlinePassed = DeadlinePassed(call);
        if (exception is OperationCanceledException)
        {
            // A caller whose own deadline fired cancels the calls it made: past the deadline, the deadline is the cause.
            if (deadlinePassed) return (LogLevel.Information, "its caller's deadline passed");
            if (call.CancelledByCaller) return (LogLevel.Information, "its caller cancelled the call");
            if (Consumer.ChannelLost.IsCancellationRequested) return (LogLevel.Information, "its channel closed or the server is stopping; the request goes back to the queue");
            return null;
        }

        if (exception is RpcTimeoutException || IsRemoteStop(exception))
        {
            if (deadlinePassed) return (LogLevel.Information, "its caller's deadline passed, ending a call the handler made");
            if (call.CancelledByCaller) return (LogLevel.Information, "its caller cancelled the call, and with it a call the handler made");
            if (exception is RpcTimeoutException) return (LogLevel.Warning, "a call the handler made timed out before its own caller's deadline");
        }

        return null;
    }

    /// <summary>The caller's deadline is over for this call: its token fired for it, or the clock is past it.</summary>
    private bool DeadlinePassed(RpcServerCall call) => call.StoppedByDeadline || CallerDeadline is { } deadline && deadline <= call.Time.GetUtcNow();

    /// <summary>
    /// A call the handler made was stopped on its server (cancelled, or past the deadline it inherited), or that server's
    /// own call timed out at the inherited deadline and it answered with its RpcTimeoutException (a hop further down a
    /// chain whose timer fired before its token).
    /// </summary>
    private static bool IsRemoteStop(Exception? failure) =>
        failure is RpcRemoteException remote && remote.RemoteType is WireContract.ErrorTypes.DeadlineExceeded or WireContract.ErrorTypes.Cancelled
            or "System.OperationCanceledException" or "System.Threading.Tasks.TaskCanceledException" or "RpcGen.RpcTimeoutException";

    public void Dispose() => Result.Dispose();
}
