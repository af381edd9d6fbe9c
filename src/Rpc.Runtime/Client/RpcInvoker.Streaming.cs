using System;
using System.Collections.Generic;
using System.Threading;
using RabbitMQ.Client;
using RpcGen.Client;
using RpcGen.Wire;

namespace RpcGen.Generated;

// Streamed results: a method returning IAsyncEnumerable<T> (docs/wire-format.md, "Streaming results").
public sealed partial class RpcInvoker
{
    /// <summary>
    /// Calls a method whose result is a stream. Nothing is sent until the result is enumerated; each enumeration
    /// starts the call once (a second one throws). Breaking out of <c>await foreach</c>, or cancelling, stops the
    /// server's enumeration.
    /// </summary>
    public IAsyncEnumerable<T> StreamAsync<T>(RpcRequest request, CancellationToken cancellationToken) => new RpcStream<T>(this, request, cancellationToken);

    /// <summary>Starts the call behind an enumeration: the same checks, timeout and deadline as any call, then the request with its window.</summary>
    internal StreamingCall<T> StartStream<T>(RpcRequest request, CancellationToken cancellationToken, CancellationTokenSource? linked = null)
    {
        var method = request.Method;
        if (request.Error is { } error)
        {
            request.Release();
            throw error;
        }

        var itemType = GetStreamItemType<T>(request);
        cancellationToken.ThrowIfCancellationRequested();
        if (Refuse(method, request) is { } refused)
        {
            request.Release();
            throw refused;
        }

        var ambient = RpcCallOptions.Current;
        var timeout = ambient?.Timeout ?? method.Timeout ?? _options.DefaultTimeout;
        var queue = QueueOf(method.Service);
        if (RpcContext.Current?.Deadline is { } outer)
        {
            // Made while serving a call: never stream longer than that call's caller waits.
            var left = outer - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                request.Release();
                throw new RpcTimeoutException(method.Service.Name, method.WireName, queue.Value, TimeSpan.Zero,
                    $"RPC {method.Service.Name}.{method.WireName} was not sent: the call being served ({RpcContext.Current.Service}.{RpcContext.Current.Method}) " +
                    $"passed its deadline {-left.TotalMilliseconds:0} ms ago (queue '{queue.Value}').");
            }

            if (left < timeout) timeout = left;
        }

        var call = new StreamingCall<T>(_pending, _pending.NextCorrelationId(), method, queue.Value, timeout, itemType, _options.StreamWindow,
            _options.StreamIdleTimeout, cancellationToken, linked) { UserId = _userId };
        if (!(ambient?.WaitForReady ?? _options.WaitForReady))
        {
            long delay = (long)_options.ServerCheckDelay.TotalMilliseconds;
            call.CheckInterval = delay;
            call.CheckAt = Environment.TickCount64 + delay;
        }

        _pending.Add(call, timeout, cancellationToken);
        call.StartTimer();
        PublishStreamRequest(call, request, queue, ambient?.Headers);
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

    private void PublishStreamRequest(PendingCall call, RpcRequest request, CachedString queue, IReadOnlyDictionary<string, string>? userHeaders) =>
        PublishRequest(call, request, queue, telemetry: null, userHeaders, _options.StreamWindow);

    /// <summary>What a generated client returns: the call starts when it is enumerated.</summary>
    private sealed class RpcStream<T> : IAsyncEnumerable<T>
    {
        private readonly RpcInvoker _invoker;
        private readonly RpcRequest _request;
        private readonly CancellationToken _methodToken;
        private int _started;

        public RpcStream(RpcInvoker invoker, RpcRequest request, CancellationToken methodToken)
        {
            _invoker = invoker;
            _request = request;
            _methodToken = methodToken;
        }

        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _started, 1) != 0)
            {
                throw new InvalidOperationException(
                    $"RPC {_request.Method.Service.Name}.{_request.Method.WireName}: a streamed result can be enumerated once; call the method again for a new stream.");
            }

            // The method's token and the enumeration's (WithCancellation) both stop the stream.
            if (!cancellationToken.CanBeCanceled || cancellationToken == _methodToken) return _invoker.StartStream<T>(_request, _methodToken);
            if (!_methodToken.CanBeCanceled) return _invoker.StartStream<T>(_request, cancellationToken);
            var linked = CancellationTokenSource.CreateLinkedTokenSource(_methodToken, cancellationToken);
            try
            {
                return _invoker.StartStream<T>(_request, linked.Token, linked);
            }
            catch
            {
                linked.Dispose();
                throw;
            }
        }
    }
}
