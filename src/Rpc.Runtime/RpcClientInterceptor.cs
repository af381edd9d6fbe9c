using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace RpcGen;

/// <summary>
/// Runs around every request/reply call a connection's clients make (register in <see cref="RpcClientOptions.Interceptors"/>
/// or with <c>AddRpcClientInterceptor&lt;T&gt;()</c>). It sees the method and the headers before the call, may add
/// headers, awaits <c>next</c> to make the call and sees its outcome (the awaited task throws the call's exception).
/// To short-circuit, throw instead of calling <c>next</c>: the caller gets that exception and nothing is sent.
/// </summary>
/// <remarks>
/// Interceptors run in registration order, the first outermost. Without any registered, a call pays nothing for them.
/// The library's own telemetry (spans, metrics, logs) is not built on this pipeline: it stays where it is, so what it
/// records does not depend on which interceptors are registered. One-way sends do not pass through interceptors.
/// </remarks>
public interface IRpcClientInterceptor
{
    /// <summary>Runs around one call; call <paramref name="next"/> exactly once to make it, or throw to refuse it.</summary>
    Task InterceptAsync(RpcClientCallContext call, Func<RpcClientCallContext, Task> next);
}

/// <summary>One call as a client interceptor sees it.</summary>
public sealed class RpcClientCallContext
{
    internal RpcClientCallContext(RpcMethodDescriptor method, Dictionary<string, string> headers)
    {
        Method = method;
        Headers = headers;
    }

    /// <summary>The method being called (service, wire name, timeout, declared faults).</summary>
    public RpcMethodDescriptor Method { get; }

    /// <summary>
    /// The call's own headers (<see cref="RpcCallOptions.Headers"/>), which an interceptor may change before calling
    /// next; sent with the request and readable on the server as <see cref="RpcContext.Headers"/>. Reserved names
    /// (<c>rpc-*</c>, <c>traceparent</c>, <c>tracestate</c>) fail the call with an <see cref="ArgumentException"/>.
    /// </summary>
    public IDictionary<string, string> Headers { get; }
}
