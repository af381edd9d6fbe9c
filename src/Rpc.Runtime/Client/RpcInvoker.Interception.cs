using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Generated;

// The client interceptor pipeline around a call: only entered when interceptors are registered, so a call without them pays nothing.
public sealed partial class RpcInvoker
{
    /// <summary>Runs the client interceptors around the call; only taken when some are registered.</summary>
    private async Task<T> InterceptAsync<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken, RpcCallOptions? ambient)
    {
        var headers = ambient?.Headers is { } given ? new Dictionary<string, string>(given, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        var context = new RpcClientCallContext(request.Method, headers);
        T result = default!;
        bool sent = false;
        Func<RpcClientCallContext, Task> chain = async call =>
        {
            if (sent) throw new InvalidOperationException($"RPC {call.Method.Service.Name}.{call.Method.WireName}: a client interceptor called next twice.");
            sent = true;
            foreach (var header in headers)
            {
                if (WireContract.IsReservedHeader(header.Key))
                {
                    throw new ArgumentException($"RPC {call.Method.Service.Name}.{call.Method.WireName}: header '{header.Key}' is reserved by RpcGen; choose another name.");
                }
            }

            result = await StartCore(request, resultType, cancellationToken, ambient, headers).ConfigureAwait(false);
        };
        for (int i = _clientInterceptors.Length - 1; i >= 0; i--)
        {
            var interceptor = _clientInterceptors[i];
            var next = chain;
            chain = call => interceptor.InterceptAsync(call, next);
        }

        try
        {
            await chain(context).ConfigureAwait(false);
        }
        finally
        {
            if (!sent) request.Release();
        }

        if (!sent)
        {
            throw new InvalidOperationException(
                $"RPC {request.Method.Service.Name}.{request.Method.WireName}: a client interceptor returned without calling next or throwing; to refuse a call, throw.");
        }

        return result;
    }
}
