using System;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen;

/// <summary>
/// Runs around every request a connection's servers handle (register in <see cref="RpcServerOptions.Interceptors"/> or
/// with <c>AddRpcServerInterceptor&lt;T&gt;()</c>), after the request was read and before the handler runs;
/// <see cref="RpcContext.Current"/> is set. It sees the method, the headers, the caller's user id and deadline, awaits
/// <c>next</c> to run the handler and sees its outcome (the awaited task throws the handler's exception). To
/// short-circuit (e.g. refuse a caller), throw instead of calling <c>next</c>: the exception is the error reply, as if
/// the handler had thrown it, so a fault the method declares with <see cref="RpcFaultAttribute"/> reaches the caller as itself.
/// </summary>
/// <remarks>
/// Interceptors run in registration order, the first outermost. Without any registered, a request pays nothing for
/// them. The library's own telemetry is not built on this pipeline (see <see cref="IRpcClientInterceptor"/>).
/// </remarks>
public interface IRpcServerInterceptor
{
    /// <summary>Runs around one request; call <paramref name="next"/> exactly once to run the handler, or throw to refuse it.</summary>
    ValueTask InterceptAsync(RpcServerCallContext call, Func<RpcServerCallContext, ValueTask> next);
}

/// <summary>One request as a server interceptor sees it.</summary>
public sealed class RpcServerCallContext
{
    internal RpcServerCallContext(RpcMethodDescriptor method, RpcContext context, CancellationToken cancellationToken)
    {
        Method = method;
        Context = context;
        CancellationToken = cancellationToken;
    }

    /// <summary>The method being called.</summary>
    public RpcMethodDescriptor Method { get; }

    /// <summary>What the request says: user id, correlation id, headers, deadline, redelivery.</summary>
    public RpcContext Context { get; }

    /// <summary>The handler's token: fires when the caller cancels, and when the server stops past its drain timeout.</summary>
    public CancellationToken CancellationToken { get; }
}
