using System;
using System.Collections.Generic;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RpcGen.Wire;

namespace RpcGen.Client;

// The client interceptor pipeline around a call: only entered when interceptors are registered, so a call without them pays nothing.
internal sealed partial class RequestReplyClient
{
    /// <summary>Runs the client interceptors around the call; only taken when some are registered.</summary>
    private async Task<T> InterceptAsync<T>(OutgoingCall outgoing, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        var request = outgoing.Request;
        var headers = outgoing.Options?.Headers is { } given ? new Dictionary<string, string>(given, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        var context = new RpcClientCallContext(request.Method, headers);
        T result = default!;
        bool sent = false;
        Func<RpcClientCallContext, Task> chain = async call =>
        {
            if (sent) throw new InvalidOperationException(CallFailures.Text(call.Method, "a client interceptor called next twice."));
            sent = true;
            foreach (var header in headers)
            {
                if (WireContract.IsReservedHeader(header.Key))
                {
                    throw new ArgumentException(CallFailures.Text(call.Method, $"header '{header.Key}' is reserved by RpcGen; choose another name."));
                }
            }

            result = await StartCore(outgoing, resultType, cancellationToken, headers).ConfigureAwait(false);
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
                CallFailures.Text(request.Method, "a client interceptor returned without calling next or throwing; to refuse a call, throw."));
        }

        return result;
    }
}
