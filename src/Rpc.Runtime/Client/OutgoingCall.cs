using System;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Client;

/// <summary>
/// How every call starts, made once: calls, streams, one-way sends and event publishes all begin here. First the
/// pre-flight, in this order: an error writing the arguments, the caller's token, a refusal (connection down or blocked,
/// body over the size limit); a request that fails it is released and never sent. Then, for calls and streams, what the
/// call waits by, read once when the call is made: the ambient <see cref="RpcCallOptions"/> scope, the timeout (that
/// scope's, else the method's, else the service's, else <see cref="RpcClientOptions.DefaultTimeout"/>) cut to the deadline of
/// the call being served, and whether the call fails fast when nobody consumes its queue.
/// </summary>
/// <remarks>A value type: starting a call allocates nothing here.</remarks>
internal readonly struct OutgoingCall
{
    private OutgoingCall(RpcRequest request, CachedString queue, RpcCallOptions? options, TimeSpan timeout, bool failFast)
    {
        Request = request;
        Queue = queue;
        Options = options;
        Timeout = timeout;
        FailFast = failFast;
    }

    public RpcRequest Request { get; }

    public RpcMethodDescriptor Method => Request.Method;

    /// <summary>The service's queue (for a call, stream or one-way send).</summary>
    public CachedString Queue { get; }

    /// <summary>The ambient scope when the call was made (null outside any): its headers and stream deadline travel with the call.</summary>
    public RpcCallOptions? Options { get; }

    /// <summary>How long a call waits for its reply, or a stream for its first item.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Whether the call asks the broker, after a while without a reply, whether anyone consumes its queue.</summary>
    public bool FailFast { get; }

    /// <summary>
    /// The pre-flight alone (one-way sends and events, which wait for a confirm, not a reply). Null to go ahead; else the
    /// failure, the request already released.
    /// </summary>
    public static Exception? Check(RpcInvoker invoker, RpcRequest request, CancellationToken cancellationToken)
    {
        Exception? failure = request.Error
            ?? (cancellationToken.IsCancellationRequested ? new OperationCanceledException(cancellationToken) : (Exception?)null)
            ?? invoker.Refuse(request.Method, request);
        if (failure is not null) request.Release();
        return failure;
    }

    /// <summary>
    /// The pre-flight, then the timeout and fail-fast of a call or stream. Null to go ahead with <paramref name="call"/>;
    /// else the failure, the request already released.
    /// </summary>
    /// <param name="invoker">The client making the call.</param>
    /// <param name="request">The request, its arguments written.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="ambient">The <see cref="RpcCallOptions"/> scope in force when the call was made (a stream's, when its method was called).</param>
    /// <param name="serving">The call being served when the call was made, whose deadline bounds this one.</param>
    /// <param name="call">The call, when it may go ahead.</param>
    public static Exception? Start(RpcInvoker invoker, RpcRequest request, CancellationToken cancellationToken, RpcCallOptions? ambient,
        RpcContext? serving, out OutgoingCall call)
    {
        call = default;
        if (Check(invoker, request, cancellationToken) is { } failure) return failure;
        var method = request.Method;
        var options = invoker.Options;
        var timeout = ambient?.Timeout ?? method.Timeout ?? options.DefaultTimeout;
        var queue = invoker.QueueOf(method.Service);
        if (serving is { Deadline: { } outer })
        {
            // Made while serving a call: never wait longer than that call's caller does.
            var left = outer - options.TimeProvider.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                request.Release();
                return new RpcTimeoutException(method.Service.Name, method.WireName, queue.Value, TimeSpan.Zero,
                    $"RPC {method.Service.Name}.{method.WireName} was not sent: the call being served ({serving.Service}.{serving.Method}) " +
                    $"passed its deadline {-left.TotalMilliseconds:0} ms ago (queue '{queue.Value}').");
            }

            if (left < timeout) timeout = left;
        }

        call = new OutgoingCall(request, queue, ambient, timeout, failFast: !(ambient?.WaitForReady ?? options.WaitForReady));
        return null;
    }

    /// <summary>A failure before anything was sent, as the task a call returns: cancelled for the caller's token, else faulted.</summary>
    public static Task<T> Failed<T>(Exception failure) =>
        failure is OperationCanceledException { CancellationToken.IsCancellationRequested: true } cancelled
            ? Task.FromCanceled<T>(cancelled.CancellationToken)
            : Task.FromException<T>(failure);

    /// <inheritdoc cref="Failed{T}"/>
    public static Task Failed(Exception failure) =>
        failure is OperationCanceledException { CancellationToken.IsCancellationRequested: true } cancelled
            ? Task.FromCanceled(cancelled.CancellationToken)
            : Task.FromException(failure);
}
