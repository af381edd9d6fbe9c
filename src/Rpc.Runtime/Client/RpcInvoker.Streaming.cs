using System;
using System.Collections.Generic;
using System.Threading;
using RpcGen.Wire;

namespace RpcGen.Client;

// Streamed results: a method returning IAsyncEnumerable<T> (docs/wire-format.md, "Streaming results").
public sealed partial class RpcInvoker
{
    /// <summary>
    /// Calls a method whose result is a stream. Nothing is sent until the result is enumerated; each enumeration
    /// starts the call once (a second one throws). The ambient <see cref="RpcCallOptions"/> scope and the deadline of
    /// the call being served are read now, when the method is called, not when the stream is enumerated. Breaking out
    /// of <c>await foreach</c>, or cancelling, stops the server's enumeration.
    /// </summary>
    public IAsyncEnumerable<T> StreamAsync<T>(RpcRequest request, CancellationToken cancellationToken) =>
        new RpcStream<T>(this, request, cancellationToken, RpcCallOptions.Current, RpcContext.Current);

    /// <summary>Starts the call behind an enumeration: the same start as any call (<see cref="OutgoingCall"/>), then the request with its window.</summary>
    internal StreamingCall<T> StartStream<T>(RpcRequest request, CancellationToken cancellationToken, RpcCallOptions? ambient, RpcContext? serving,
        CancellationTokenSource? linked = null)
    {
        if (request.Error is null)
        {
            // An item type that cannot be read fails before anything is sent, as an argument that cannot be written does.
            GetStreamItemType<T>(request);
        }

        if (OutgoingCall.Start(this, request, cancellationToken, ambient, serving, out var outgoing) is { } failure) throw failure;
        var method = outgoing.Method;
        var call = new StreamingCall<T>(_pending, _pending.NextCorrelationId(), method, outgoing.Queue.Value, outgoing.Timeout, GetTypeInfo<T>(),
            _options.StreamWindow, _options.StreamIdleTimeout, ambient?.StreamDeadline, cancellationToken, linked);
        if (outgoing.FailFast) call.CheckAt = Environment.TickCount64 + (long)_options.ServerCheckDelay.TotalMilliseconds;
        _pending.Add(call, outgoing.Timeout, cancellationToken);
        call.StartTimer();
        PublishRequest(call, request, outgoing.Queue, telemetry: null, ambient?.Headers, _options.StreamWindow);
        return call;
    }

    private System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> GetStreamItemType<T>(RpcRequest request)
    {
        try
        {
            return GetTypeInfo<T>();
        }
        catch (Exception e)
        {
            request.Release();
            throw new RpcSerializationException(
                $"RPC {request.Method.Service.Name}.{request.Method.WireName}: item type {typeof(T).Name} cannot be deserialised: {e.Message}",
                request.Method.Service.Name, request.Method.WireName, e);
        }
    }

    /// <summary>What a generated client returns: the call starts when it is enumerated.</summary>
    private sealed class RpcStream<T> : IAsyncEnumerable<T>
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
                throw new InvalidOperationException(
                    $"RPC {_request.Method.Service.Name}.{_request.Method.WireName}: a streamed result can be enumerated once; call the method again for a new stream.");
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
}
