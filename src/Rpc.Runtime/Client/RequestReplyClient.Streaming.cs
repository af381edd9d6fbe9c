using System.Text.Json.Serialization.Metadata;
using System.Threading;

namespace RpcGen.Client;

// Streamed results: a method returning IAsyncEnumerable<T> (docs/wire-format.md, "Streaming results").
internal sealed partial class RequestReplyClient
{
    /// <summary>Sends a started streaming call: the request with its credit window; the call is the enumerator.</summary>
    internal StreamingCall<T> StartStream<T>(OutgoingCall outgoing, JsonTypeInfo<T> itemType, CancellationToken cancellationToken,
        CancellationTokenSource? linked)
    {
        var call = new StreamingCall<T>(_pending, _pending.NextCorrelationId(), outgoing.Method, outgoing.Queue.Value, outgoing.Timeout, itemType,
            _options.StreamWindow, _options.StreamIdleTimeout, outgoing.Options?.StreamDeadline, cancellationToken, linked);
        if (outgoing.FailFast) call.CheckAt = MonotonicClock.Milliseconds(_options.TimeProvider) + (long)_options.ServerCheckDelay.TotalMilliseconds;
        _pending.Add(call, outgoing.Timeout, cancellationToken);
        call.StartTimer();
        PublishRequest(call, outgoing.Request, outgoing.Queue, telemetry: null, outgoing.Options?.Headers, _options.StreamWindow);
        return call;
    }
}
