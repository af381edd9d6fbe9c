using System;
using System.Threading.Tasks;

namespace RpcGen.Server;

/// <summary>Runs a server's interceptors around the dispatcher; only taken when some are registered.</summary>
internal static class ServerInterception
{
    public static async ValueTask RunAsync(IRpcServerInterceptor[] interceptors, RpcServerCall call, Func<RpcServerCall, ValueTask> invoke)
    {
        bool ran = false;
        Func<RpcServerCallContext, ValueTask> chain = _ =>
        {
            if (ran) throw new InvalidOperationException($"A server interceptor called next twice for {call.Context.Service}.{call.Method.WireName}.");
            ran = true;
            return invoke(call);
        };
        for (int i = interceptors.Length - 1; i >= 0; i--)
        {
            var interceptor = interceptors[i];
            var next = chain;
            chain = context => interceptor.InterceptAsync(context, next);
        }

        try
        {
            await chain(new RpcServerCallContext(call.Method, call.Context, call.CancellationToken)).ConfigureAwait(false);
        }
        catch (Exception) when (!ran)
        {
            // Thrown before the handler ran: an interceptor refused the request, and would refuse its retry too.
            call.RefuseByInterceptor();
            throw;
        }

        if (!ran)
        {
            throw new InvalidOperationException(
                $"A server interceptor returned without running {call.Context.Service}.{call.Method.WireName} or throwing; to refuse a request, throw.");
        }
    }
}
