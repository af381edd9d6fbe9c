using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// The caller's end of one streamed result: a pending call that stays in <see cref="PendingCalls"/> from the request
/// to its end or error marker, buffers the items as they arrive (deserialised where they arrive, in order, checked
/// by sequence number) and hands them to <c>await foreach</c>. It grants credit as its reader takes items, half a
/// window at a time, so at most <see cref="RpcClientOptions.StreamWindow"/> items are ever ahead of the reader.
/// </summary>
/// <remarks>
/// Three bounds, each ending the stream with an <see cref="RpcTimeoutException"/> that names it. The call's timeout
/// bounds the wait for the first message only (<see cref="PendingCalls"/>' sweep; it is switched off when that
/// message comes), so a stream that flows is never cut by it. <see cref="RpcClientOptions.StreamIdleTimeout"/> bounds each gap
/// after that: the stream fails when the reader has taken everything and no message came for the whole idle timeout (a
/// dead server, or a producer slower than the timeout). <see cref="RpcCallOptions.StreamDeadline"/>, when set, ends the
/// whole stream. A streamed request carries no <c>rpc-deadline</c>: the caller ends the stream at these bounds and
/// cancels it on the server (the cancel remembers the deadline, if any, as <see cref="PendingCall.Deadline"/>). One timer per stream checks the last two, every quarter of the idle timeout (at most a
/// tenth of the deadline): it also resends the last grant when none went out for a third of the idle timeout, so the
/// server can tell a slow reader from a dead one. Cancellation works as for any call.
/// </remarks>
internal sealed class StreamingCall<T> : PendingCall, IAsyncEnumerator<T>
{
    private readonly Channel<T> _items = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly JsonTypeInfo<T> _itemType;
    private readonly int _window;
    private readonly long _idleMs;
    private readonly long _deadlineMs; // 0: none
    private readonly long _deadlineAt;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenSource? _linked;
    private ITimer? _timer;
    private long _received;     // written by the reply listener only
    private long _consumed;     // written by the reader only
    private long _granted;
    private long _lastMessageAt;
    private long _lastGrantAt;
    private int _started; // 1 once the first message came: the idle timeout applies from then on
    private int _finished;

    public StreamingCall(PendingCalls owner, string correlationId, RpcMethodDescriptor method, string queue, TimeSpan timeout,
        JsonTypeInfo<T> itemType, int window, TimeSpan idle, TimeSpan? deadline, CancellationToken cancellationToken, CancellationTokenSource? linked)
        : base(owner, correlationId, method, queue, timeout,
            deadline is { } total ? owner.Time.GetUtcNow().ToUnixTimeMilliseconds() + (long)total.TotalMilliseconds : 0)
    {
        _lastMessageAt = _lastGrantAt = MonotonicClock.Milliseconds(owner.Time);
        _itemType = itemType;
        _window = window;
        _granted = window;
        _idleMs = Math.Max(1, (long)idle.TotalMilliseconds);
        if (deadline is { } limit)
        {
            _deadlineMs = Math.Max(1, (long)limit.TotalMilliseconds);
            _deadlineAt = MonotonicClock.Milliseconds(owner.Time) + _deadlineMs;
        }

        _cancellationToken = cancellationToken;
        _linked = linked;
    }

    public int Window => _window;

    public T Current { get; private set; } = default!;

    /// <summary>Starts the keep-alive and idle timer; called once the call is in <see cref="PendingCalls"/>.</summary>
    public void StartTimer()
    {
        long period = Math.Clamp(_deadlineMs == 0 ? _idleMs / 4 : Math.Min(_idleMs / 4, _deadlineMs / 10), 10, 5_000);
        _timer = Owner.Time.CreateTimer(static state => ((StreamingCall<T>)state!).OnTimer(), this, TimeSpan.FromMilliseconds(period), TimeSpan.FromMilliseconds(period));
    }

    public async ValueTask<bool> MoveNextAsync()
    {
        _cancellationToken.ThrowIfCancellationRequested();
        var reader = _items.Reader;
        while (true)
        {
            if (reader.TryRead(out var item))
            {
                Current = item;
                Taken();
                return true;
            }

            if (!await reader.WaitToReadAsync(_cancellationToken).ConfigureAwait(false)) return false;
        }
    }

    /// <summary>One more item taken by the reader: when half the window is used, the server may send another half.</summary>
    private void Taken()
    {
        long consumed = _consumed + 1;
        Volatile.Write(ref _consumed, consumed);
        long granted = Interlocked.Read(ref _granted);
        if (granted - consumed > _window / 2 || Volatile.Read(ref _finished) != 0) return;
        long credit = consumed + _window;
        Interlocked.Exchange(ref _granted, credit);
        Volatile.Write(ref _lastGrantAt, MonotonicClock.Milliseconds(Owner.Time));
        Owner.GrantCredit(this, credit);
    }

    public override bool OnStreamMessage(string kind, long sequence, ReadOnlySpan<byte> body, bool isError)
    {
        Volatile.Write(ref _lastMessageAt, MonotonicClock.Milliseconds(Owner.Time));
        if (_started == 0)
        {
            // The call's timeout bounded the wait for this first message; from here the idle timeout and the deadline do.
            Volatile.Write(ref DueAt, 0);
            Volatile.Write(ref _started, 1);
        }

        // The server exists and streams: no need to ask the broker whether anyone serves the queue.
        CheckAt = 0;
        if (sequence != _received)
        {
            BreakProtocol($"the stream's message '{kind}' carries sequence number {sequence} where {_received} was due " +
                "(items lost or repeated, e.g. a request redelivered to a second server)");
            return true;
        }

        switch (kind)
        {
            case StreamContract.Items:
                ReadItems(sequence, body);
                break;
            case StreamContract.End:
                Finish(null, abandon: false);
                break;
            case StreamContract.Error:
                Finish(RemoteErrors.ToException(Method, Queue, body, _itemType.Options), abandon: false);
                break;
            default:
                BreakProtocol($"the stream sent a message of unknown kind '{kind}'");
                break;
        }

        return true;
    }

    /// <summary>
    /// Reads the items of one message into the buffer, at most up to the credit granted: a server that sends more
    /// breaks the protocol, and the caller never holds more than its window whatever arrives.
    /// </summary>
    private void ReadItems(long sequence, ReadOnlySpan<byte> body)
    {
        var writer = _items.Writer;
        bool overrun = false;
        try
        {
            var json = new Utf8JsonReader(body);
            if (!json.Read() || json.TokenType != JsonTokenType.StartArray) throw new JsonException("the body of an items message must be a JSON array");
            long granted = Interlocked.Read(ref _granted);
            while (json.Read() && json.TokenType != JsonTokenType.EndArray)
            {
                // The reader may have granted more since the last look: read the credit again before refusing.
                if (_received >= granted && (granted = Interlocked.Read(ref _granted)) <= _received)
                {
                    overrun = true;
                    break;
                }

                var item = JsonSerializer.Deserialize(ref json, _itemType)!;
                writer.TryWrite(item);
                Volatile.Write(ref _received, _received + 1);
            }
        }
        catch (Exception e)
        {
            Finish(new RpcSerializationException(
                CallFailures.Text(Method, $"item {_received} of the stream from queue '{Queue}' is not a valid {typeof(T).Name}: {e.Message}"),
                Method.Service.Name, Method.WireName, e), abandon: true);
            return;
        }

        if (overrun)
        {
            BreakProtocol($"the server sent item {_received} (in a message of items from {sequence}) beyond the credit the caller granted: " +
                $"items below {Interlocked.Read(ref _granted)}, window {_window}, {Volatile.Read(ref _consumed)} taken so far. A server must not send past its credit; " +
                "the caller keeps no more than its window");
        }
    }

    /// <summary>A stream message that breaks the wire contract: counted, logged (2020 ReplyRejected) and the stream stopped, so the server is cancelled.</summary>
    private void BreakProtocol(string reason)
    {
        Owner.Reject(this, reason);
        Finish(new RpcException(RpcStatusCode.Internal, $"RPC {Method.Service.Name}.{Method.WireName} (queue '{Queue}'): {reason}; the stream was stopped.",
            Method.Service.Name, Method.WireName), abandon: true);
    }

    /// <summary>The end, the error marker, or a broken stream: out of the pending map, the reader told after the items it has.</summary>
    private void Finish(Exception? failure, bool abandon)
    {
        if (abandon)
        {
            Owner.Abandon(this, failure!);
            return;
        }

        if (Owner.TryFinish(this)) Complete(failure);
    }

    private void Complete(Exception? failure)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return;
        _timer?.Dispose();
        _items.Writer.TryComplete(failure);
    }

    private void OnTimer()
    {
        try
        {
            CheckIdle();
        }
        catch (Exception)
        {
            // A timer callback must never take the process down; the call's own timeout still ends the stream.
        }
    }

    private void CheckIdle()
    {
        if (Volatile.Read(ref _finished) != 0) return;
        long now = MonotonicClock.Milliseconds(Owner.Time);
        if (_deadlineMs != 0 && now >= _deadlineAt)
        {
            Owner.Abandon(this, new RpcTimeoutException(Method.Service.Name, Method.WireName, Queue, TimeSpan.FromMilliseconds(_deadlineMs),
                CallFailures.Text(Method, $"stream deadline of {Seconds(_deadlineMs)} passed (RpcCallOptions.StreamDeadline) " +
                $"after {Volatile.Read(ref _consumed)} items taken; the stream was stopped (queue '{Queue}').")));
            return;
        }

        long silent = now - Volatile.Read(ref _lastMessageAt);
        // Before the first message the call's timeout applies; silence while the reader still has items to take is the
        // reader's doing, not the server's.
        if (Volatile.Read(ref _started) != 0 && silent >= _idleMs && Volatile.Read(ref _received) == Volatile.Read(ref _consumed))
        {
            Owner.Abandon(this, new RpcTimeoutException(Method.Service.Name, Method.WireName, Queue, TimeSpan.FromMilliseconds(_idleMs),
                CallFailures.Text(Method, $"no item for {Seconds(silent)} (stream idle timeout, RpcClientOptions.StreamIdleTimeout " +
                $"{Seconds(_idleMs)}) after {_received} items; the server is gone or produces no item in time (queue '{Queue}').")));
            return;
        }

        if (now - Volatile.Read(ref _lastGrantAt) >= _idleMs / 3)
        {
            Volatile.Write(ref _lastGrantAt, now);
            Owner.GrantCredit(this, Interlocked.Read(ref _granted));
        }
    }

    private static string Seconds(long milliseconds) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{milliseconds / 1000.0:0.###} s");

    public override void SetReply(ReadOnlySpan<byte> body, bool isError) =>
        // A plain reply: the server refused the request before streaming (bad arguments, unknown method, cancelled),
        // or does not know the method streams.
        Complete(isError
            ? RemoteErrors.ToException(Method, Queue, body, _itemType.Options)
            : new RpcException(RpcStatusCode.Unimplemented, CallFailures.Text(Method, $"the server of queue '{Queue}' answered with a single reply instead of a stream; " +
                "does it serve the same contract?"), Method.Service.Name, Method.WireName));

    public override void SetException(Exception exception) => Complete(exception);

    public override void SetCanceled(CancellationToken token) => Complete(new OperationCanceledException(token));

    /// <summary>The reader is done: a stream not over yet is abandoned, which cancels it on the server.</summary>
    public ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _finished) == 0)
        {
            Owner.Abandon(this, new OperationCanceledException(CallFailures.Text(Method, "the caller stopped reading the stream.")));
        }

        Complete(null);
        _linked?.Dispose();
        return default;
    }
}
