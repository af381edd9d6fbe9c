using System;
using System.Collections.Generic;
using System.Threading;

namespace RpcGen.Client;

/// <summary>
/// What a generated client returns for a streamed result: the call starts when it is enumerated, with the
/// <see cref="RpcCallOptions"/> scope and the served call's deadline captured when the method was called.
/// </summary>
internal sealed class RpcStream<T> : IAsyncEnumerable<T>
{
    private readonly RpcInvoker _invoker;
    private readonly RpcRequest _request;
    private readonly CancellationToken _methodToken;
    private readonly RpcCallOptions? _ambient;
    private readonly RpcContext? _serving;
    private int _started;

    public RpcStream(RpcInvoker invoker, RpcRequest request, CancellationToken methodToken, RpcCallOptions? ambient, RpcContext? serving)
    {
        _invoker = invoker;
        _request = request;
        _methodToken = methodToken;
        _ambient = ambient;
        _serving = serving;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException(CallFailures.Text(_request.Method,
                "a streamed result can be enumerated once; call the method again for a new stream."));
        }

        // The method's token and the enumeration's (WithCancellation) both stop the stream.
        if (!cancellationToken.CanBeCanceled || cancellationToken == _methodToken) return _invoker.StartStream<T>(_request, _methodToken, _ambient, _serving);
        if (!_methodToken.CanBeCanceled) return _invoker.StartStream<T>(_request, cancellationToken, _ambient, _serving);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(_methodToken, cancellationToken);
        try
        {
            return _invoker.StartStream<T>(_request, linked.Token, _ambient, _serving, linked);
        }
        catch
        {
            linked.Dispose();
            throw;
        }
    }
}
