using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Wire;

namespace RpcGen.Client;

// Where a call's request goes out alone or waits in line (RpcClientOptions.BatchCalls; docs/wire-format.md, "Batched
// calls"): which calls may share a message, and publishing the message that carries them.
internal sealed partial class RequestReplyClient
{
    private readonly ConcurrentDictionary<string, CallBatcher> _batchers = new(StringComparer.Ordinal);


    private void PublishRequestNow(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow)
    {
        if (BatcherFor(call, request, queue, telemetry, userHeaders, streamWindow, out int size) is not { } batcher)
        {
            PublishAlone(call, request, queue, telemetry, userHeaders, streamWindow);
            return;
        }

        // Others in flight, or others whose replies came with this caller's and who may be making calls of their own now.
        bool othersComingBack = _pending.CallerCameBack();
        if (batcher.TryWait(new WaitingCall(call, request, size), othersInFlight: _pending.Waiting > 1 || othersComingBack)) return;
        try
        {
            PublishAlone(call, request, queue, telemetry, userHeaders, streamWindow);
        }
        finally
        {
            batcher.Published();
        }
    }

    /// <summary>
    /// The batcher of the call's queue when the call may travel in a batch: a plain request/reply call with nothing of its
    /// own in the headers (no caller headers, no trace context, no stream window), to a service that is not ordered
    /// (whose server runs one call at a time), with a small body. Null: it goes out alone.
    /// </summary>
    private CallBatcher? BatcherFor(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow, out int size)
    {
        size = 0;
        if (!_options.BatchCalls || streamWindow is not null || userHeaders is { Count: > 0 } || telemetry?.PropagatesTraceContext == true
            || call.Method.Service.Ordered)
        {
            return null;
        }

        int body = request.CompleteBody().Length;
        if (body > _options.MaxBatchedBodySize || !Readers.Present(queue.Value)) return null;
        size = body + CallBatch.RequestOverhead(call.CorrelationId, call.Method.WireName);
        return BatcherOf(queue);
    }

    private CallBatcher BatcherOf(CachedString queue) =>
        _batchers.GetOrAdd(queue.Value, static (_, state) =>
            {
                var batchQueue = new CachedString(CallBatch.QueueFor(state.queue.Value));
                return new CallBatcher(batch => state.client.PublishBatchAsync(state.queue, batchQueue, batch),
                    state.client._options.MaxBatchSize, state.client._options.MaxMessageSize, () => state.client._pending.Waiting,
                    state.client._options.TimeProvider);
            },
            (client: this, queue));

    private BatchReaders? _batchReaders;

    // The field first: the lambda captures this, so calling EnsureInitialized alone made a delegate on every call.
    /// <summary>Who reads each queue's batches (Client/BatchReaders.cs); made at the first call that could share a message.</summary>
    private BatchReaders Readers => Volatile.Read(ref _batchReaders) ?? LazyInitializer.EnsureInitialized(ref _batchReaders, () => new BatchReaders(_connection, _options.TimeProvider));

    /// <summary>Asks the broker now whether batches to <paramref name="queue"/> have a reader (tests wait for it before holding batches).</summary>
    internal Task<bool> CheckBatchReadersAsync(CachedString queue) => Readers.CheckNowAsync(queue.Value);

    private long _batchesSentAgain;

    /// <summary>Batches the broker returned (no reader) whose calls were sent again alone, on this connection so far.</summary>
    internal long BatchesSentAgain => Interlocked.Read(ref _batchesSentAgain);

    /// <summary>Passive declares sent to learn who reads batches, on this connection so far.</summary>
    internal long BatchReaderProbes => _batchReaders?.Probes ?? 0;

    /// <summary>
    /// A batch came back unrouted: its batch queue is gone, so no server reads batches of that queue now (the last one
    /// stopped and deleted it). It never reached a server, so each call that still waits is published again, alone, to
    /// the service queue, where any server (a plain one too) answers it. The body is read here, on the channel's
    /// dispatcher, before its buffer is reused; the publishing happens on the thread pool.
    /// </summary>
    private void SendAgainAlone(string batchQueue, ReadOnlyMemory<byte> batch)
    {
        var requests = new List<CallBatch.Request>();
        CallBatch.TryReadRequests(batch, requests, out _);
        var calls = new List<(PendingCall Call, byte[] Body)>(requests.Count);
        foreach (var request in requests)
        {
            if (_pending.TryGet(request.CorrelationId, out var call)) calls.Add((call, request.Body.ToArray()));
        }

        if (calls.Count == 0) return;
        Interlocked.Increment(ref _batchesSentAgain);
        Readers.Gone(calls[0].Call.Queue);
        _ = Task.Run(() => PublishAgainAloneAsync(calls));
    }

    private async Task PublishAgainAloneAsync(List<(PendingCall Call, byte[] Body)> calls)
    {
        foreach (var (call, body) in calls)
        {
            if (!call.IsPending) continue;
            Volatile.Write(ref call.BatchId, null);
            // A batched call has nothing of its own in the headers (BatcherFor): its deadline is all it carries alone.
            var properties = LoneRequestProperties(call, new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline });
            try
            {
                using var bound = new CancellationTokenSource(call.Timeout);
                var channel = await _calls.ReadyAsync(bound.Token).ConfigureAwait(false);
                if (_state.Refusal(call.Method) is { } refusal)
                {
                    _pending.Fail(call, refusal);
                    continue;
                }

                await PublishRequestAsync(channel, new CachedString(call.Queue), properties, body).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Timed out meanwhile: the sweep fails it.
            }
            catch (Exception e)
            {
                _pending.Fail(call, PublishFailure(call.Method, call.Queue, e));
            }
        }
    }

    /// <summary>
    /// Holds back the calls to <paramref name="queue"/> as a publish under way would, until disposed: the calls made
    /// meanwhile then go out in batches. Tests use it to make batches of a known size.
    /// </summary>
    internal IDisposable HoldBatches(CachedString queue) => BatcherOf(queue).Hold();

    /// <summary>Publishes the calls taken from a batcher's line: one alone as any call, two or more as one batch message.</summary>
    private async ValueTask PublishBatchAsync(CachedString queue, CachedString batchQueue, List<WaitingCall> waiting)
    {
        // Timed out or cancelled while in line: not sent.
        for (int i = waiting.Count - 1; i >= 0; i--)
        {
            if (waiting[i].Call.IsPending) continue;
            waiting[i].Request.Release();
            waiting.RemoveAt(i);
        }

        if (waiting.Count == 0) return;
        if (waiting.Count == 1)
        {
            var only = waiting[0];
            PublishAlone(only.Call, only.Request, queue, telemetry: null, userHeaders: null, streamWindow: null);
            return;
        }

        RpcTelemetry.CountBatch(waiting[0].Call.Method.Service.Name, queue.Value, waiting.Count);
        // Each call learns its batch's id before the batch goes out: a batch of replies may complete only these calls.
        string batchId = _pending.NextCorrelationId();
        using var body = new PooledBufferWriter();
        CallBatch.BeginBatch(body);
        long now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        long latestDeadline = now;
        foreach (var entry in waiting)
        {
            Volatile.Write(ref entry.Call.BatchId, batchId);
            CallBatch.WriteRequest(body, entry.Call.CorrelationId, entry.Call.Method.WireName, entry.Call.Deadline, entry.Request.CompleteBody().Span);
            entry.Request.Release();
            latestDeadline = Math.Max(latestDeadline, entry.Call.Deadline);
        }

        var properties = new BasicProperties
        {
            CorrelationId = batchId,
            Type = CallBatch.MessageType,
            ContentType = CallBatch.ContentType,
            // The batch waits in the queue as long as its most patient call; a server refuses each call past its own deadline.
            Expiration = Math.Max(1, latestDeadline - now).ToString(CultureInfo.InvariantCulture),
            UserId = _userId,
        };

        if (!_calls.TryGetReady(out var channel))
        {
            // As for a lone call: wait for the rebuilt channel no longer than the calls wait; each call's own timer still runs.
            using var bound = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, latestDeadline - now)), _options.TimeProvider);
            try
            {
                channel = await _calls.ReadyAsync(bound.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // every call of the batch timed out meanwhile
            }
        }

        try
        {
            if (_state.Refusal(waiting[0].Call.Method) is { } refusal)
            {
                foreach (var entry in waiting) _pending.Fail(entry.Call, refusal);
                return;
            }

            // To the batch queue, which only servers that read batches consume; returned when there is none (SendAgainAlone).
            await PublishRequestAsync(channel, batchQueue, properties, body.WrittenMemory).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (var entry in waiting) _pending.Fail(entry.Call, PublishFailure(entry.Call.Method, queue.Value, e));
        }
    }
}
