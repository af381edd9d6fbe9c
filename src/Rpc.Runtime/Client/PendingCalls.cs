using System;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Diagnostics;

namespace RpcGen.Client;

/// <summary>
/// The calls waiting for a reply, keyed by correlation id. This is where a correlation id is made, where a reply is
/// matched to its call, where a timeout fires and where cancellation forgets a call. Whoever removes a call from the
/// map completes it, so a reply racing a timeout completes the call exactly once.
/// </summary>
/// <remarks>
/// Timeouts are fired by one sweep timer per connection, not a timer per call: each call only records when it is
/// due, and the sweep fails the calls past due. A timer per call cost about 150 bytes and two locks on the runtime's
/// timer queue per call (docs/performance.md). A call times out up to one sweep period late: a tenth of its timeout,
/// between 1 and 100 ms (100 ms for the default 30 s). The sweep stops after a second with nothing pending, so an
/// idle client does not wake up.
/// </remarks>
internal sealed class PendingCalls
{
    private const int IdleSweepsBeforeStop = 10;

    private readonly ConcurrentDictionary<string, PendingCall> _calls = new(StringComparer.Ordinal);
    private readonly object _sweepGate = new();
    private ITimer? _sweeper;
    private int _sweepPeriodMs; // 0 while the sweeper is stopped
    private int _idleSweeps;
    private long _droppedReplies;
    private long _rejectedReplies;
    private int _waiting;
    private readonly IPendingCallObserver? _observer;
    private readonly ILogger _logger;

    /// <param name="observer">Told what the calls need from outside: server checks, cancels, stream credit; null for none (tests).</param>
    /// <param name="logger">Where rejected replies are logged.</param>
    /// <param name="time">The clock of due times, deadlines and the sweep; the system's when null.</param>
    public PendingCalls(IPendingCallObserver? observer = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _observer = observer;
        _logger = logger ?? NullLogger.Instance;
        Time = time ?? TimeProvider.System;
    }

    /// <summary>The clock of the calls' due times and deadlines.</summary>
    public TimeProvider Time { get; }

    /// <summary>Calls waiting for a reply.</summary>
    public int Count => _calls.Count;

    /// <summary>The same as <see cref="Count"/>, kept as a counter: read on every call, where a dictionary count would take all its locks.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// A batch of replies arrived: the calls it completes are counted as coming back (<see cref="CallerCameBack"/>) from
    /// zero, so callers of an earlier batch who never made another call are not waited for past it.
    /// </summary>
    public void BatchOfRepliesArrived() => Volatile.Write(ref _comingBack, 0);

    /// <summary>
    /// A caller is about to publish: true when other callers whose replies came in the same batch of replies may be
    /// about to make calls too. Their calls are not in flight yet, but the first of them back should wait in line for
    /// them rather than go out alone (RequestReplyClient.Batching.cs). Each caller counts itself off once; at most a
    /// batch's worth of later calls take the line needlessly when callers do not come back, which costs them a hop, not a wait.
    /// </summary>
    public bool CallerCameBack()
    {
        int seen = Volatile.Read(ref _comingBack);
        while (seen > 0)
        {
            int was = Interlocked.CompareExchange(ref _comingBack, seen - 1, seen);
            if (was == seen) return seen > 1;
            seen = was;
        }

        return false;
    }

    private int _comingBack;

    /// <summary>Whether the timeout sweep is running; it stops a second after the last call left.</summary>
    internal bool IsSweeping => Volatile.Read(ref _sweepPeriodMs) != 0;

    /// <summary>Replies that came for no call waiting (timed out, cancelled, failed, or foreign), dropped since the connection opened.</summary>
    public long DroppedReplies => Interlocked.Read(ref _droppedReplies);

    internal void CountDroppedReply() => Interlocked.Increment(ref _droppedReplies);

    /// <summary>
    /// Replies refused because they broke the wire contract (a batch reply naming a call not in that batch, a stream
    /// past its credit, out of sequence or of an unknown kind), since the connection opened; each is logged as 2020
    /// <c>ReplyRejected</c>.
    /// </summary>
    public long RejectedReplies => Interlocked.Read(ref _rejectedReplies);

    internal void Reject(PendingCall call, string reason)
    {
        Interlocked.Increment(ref _rejectedReplies);
        RpcLog.ReplyRejected(_logger, call.Method.Service.Name, call.Method.WireName, call.Queue, call.CorrelationId, reason);
    }

    /// <summary>
    /// A new correlation id: 128 random bits as 32 lowercase hex characters. A reply is matched to its call by this id
    /// alone (direct reply-to does not say which queue a reply came from), so every server that sees an id must be
    /// unable to guess any other: ids are never derived from each other (they were a per-connection prefix and a
    /// counter, and a server of one service answered a client's calls to another, issue 22).
    /// </summary>
    /// <remarks>
    /// The random bytes come from the OS generator in chunks of <see cref="RandomChunk"/> bytes per thread, so one id
    /// costs a copy and a string, not a system call: 0.14 to 0.22 us on a 2-core host at load average 17, where a
    /// <c>Guid.NewGuid().ToString("N")</c> took 1.1 to 1.5 us (CorrelationIdTests prints both).
    /// </remarks>
    public string NextCorrelationId() => NewCorrelationId();

    internal static string NewCorrelationId()
    {
        var random = t_random;
        int at = t_randomUsed;
        if (random is null || at > random.Length - IdBytes)
        {
            random ??= t_random = new byte[RandomChunk];
            RandomNumberGenerator.Fill(random);
            at = 0;
        }

        t_randomUsed = at + IdBytes;
        return string.Create(IdBytes * 2, (random, at), static (span, state) =>
        {
            var bytes = state.random.AsSpan(state.at, IdBytes);
            for (int i = 0; i < bytes.Length; i++)
            {
                span[2 * i] = HexDigits[bytes[i] >> 4];
                span[2 * i + 1] = HexDigits[bytes[i] & 0xF];
            }
        });
    }

    private const int IdBytes = 16;
    private const int RandomChunk = 256 * IdBytes;
    private const string HexDigits = "0123456789abcdef";

    [ThreadStatic] private static byte[]? t_random;
    [ThreadStatic] private static int t_randomUsed;

    public void Add(PendingCall call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The due time comes before the call is in the map: a sweep running meanwhile must not see a call due at
        // time 0 (and time it out at once).
        call.DueAt = MonotonicClock.Milliseconds(Time) + (long)Math.Ceiling(timeout.TotalMilliseconds);
        call.State = PendingCall.Waiting;
        if (!_calls.TryAdd(call.CorrelationId, call))
        {
            throw new InvalidOperationException($"Correlation id '{call.CorrelationId}' is already in use.");
        }

        Interlocked.Increment(ref _waiting);

        EnsureSweeping(timeout);
        if (cancellationToken.CanBeCanceled)
        {
            call.CancellationRegistration = cancellationToken.UnsafeRegister(
                static (state, token) => ((PendingCall)state!).Owner.OnCanceled((PendingCall)state, token), call);
            // The call may have completed meanwhile (a reply, a failed publish), its Release finding no registration
            // to remove: then remove it here, or it would live as long as the caller's token.
            if (Interlocked.CompareExchange(ref call.State, PendingCall.Done, PendingCall.Done) == PendingCall.Done) call.CancellationRegistration.Unregister();
        }
    }

    /// <summary>Starts the sweep, or makes it run often enough for <paramref name="timeout"/>.</summary>
    private void EnsureSweeping(TimeSpan timeout)
    {
        int period = (int)Math.Clamp(timeout.TotalMilliseconds / 10, 1, 100);
        // A full fence after the call went into the map: either this sees the sweeper running, or the sweeper,
        // stopping, sees the call and keeps going (see Sweep).
        int current = Interlocked.CompareExchange(ref _sweepPeriodMs, 0, 0);
        if (current != 0 && current <= period) return;
        lock (_sweepGate)
        {
            if (_sweepPeriodMs != 0 && _sweepPeriodMs <= period) return;
            _sweeper ??= Time.CreateTimer(static state => ((PendingCalls)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref _idleSweeps, 0);
            _sweeper.Change(TimeSpan.FromMilliseconds(period), TimeSpan.FromMilliseconds(period));
            Volatile.Write(ref _sweepPeriodMs, period);
        }
    }

    private void Sweep()
    {
        long now = MonotonicClock.Milliseconds(Time);
        bool any = false;
        foreach (var entry in _calls)
        {
            any = true;
            var call = entry.Value;
            long due = Volatile.Read(ref call.DueAt);
            if (due != 0 && due <= now)
            {
                OnTimeout(call);
                continue;
            }

            // Only calls that have waited long without a reply come here: an answered call never costs a check.
            long check = call.CheckAt;
            if (check != 0 && check <= now && _observer is not null) _observer.ServerCheckDue(call);
        }

        if (any)
        {
            Volatile.Write(ref _idleSweeps, 0);
            return;
        }

        if (Interlocked.Increment(ref _idleSweeps) < IdleSweepsBeforeStop) return;
        lock (_sweepGate)
        {
            if (_sweepPeriodMs == 0) return;
            // A full fence before looking at the map: a call added from here on sees 0 and starts the sweep again.
            int period = Interlocked.Exchange(ref _sweepPeriodMs, 0);
            if (!_calls.IsEmpty)
            {
                // A call came in meanwhile and may have seen the sweep running: keep it running.
                Volatile.Write(ref _idleSweeps, 0);
                Volatile.Write(ref _sweepPeriodMs, period);
                return;
            }

            _sweeper!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Matches a reply to its call. Returns false for a reply nobody waits for (timed out, cancelled, or foreign).</summary>
    public bool TryComplete(string? correlationId, ReadOnlySpan<byte> body, bool isError)
    {
        if (correlationId is null || !_calls.TryRemove(correlationId, out var call)) return false;
        Release(call);
        Deliver(call, body, isError);
        return true;
    }

    /// <summary>
    /// Matches one reply of a batch of replies (docs/wire-format.md, "Batched calls") to its call: only a call sent in
    /// the batch the message answers (<paramref name="batchId"/>, the message's correlation id) may take it. Whoever
    /// answers a batch knows its calls' ids, and no more; a reply naming any other waiting call is refused and logged,
    /// and that call keeps waiting for its own.
    /// </summary>
    public bool TryCompleteInBatch(string? batchId, string correlationId, ReadOnlySpan<byte> body, bool isError)
    {
        if (!_calls.TryGetValue(correlationId, out var call)) return false;
        if (batchId is null || !string.Equals(Volatile.Read(ref call.BatchId), batchId, StringComparison.Ordinal))
        {
            Reject(call, $"a batch of replies (correlation id {batchId ?? "none"}) named this call, which was not sent in that batch; " +
                "the reply was dropped and the call waits for its own");
            return false;
        }

        if (!_calls.TryRemove(new(correlationId, call))) return false;
        Release(call);
        // Before its caller can run: counted as coming back before it can count itself off.
        Interlocked.Increment(ref _comingBack);
        Deliver(call, body, isError);
        return true;
    }

    /// <summary>
    /// Hands a reply to the call just removed from the map, which nothing else can complete any more: whatever the body
    /// holds (it is untrusted input) and whatever reading it throws (a declared fault's constructor is user code), the
    /// call ends here, so no reply ever leaves a caller waiting.
    /// </summary>
    private static void Deliver(PendingCall call, ReadOnlySpan<byte> body, bool isError)
    {
        try
        {
            call.SetReply(body, isError);
        }
        catch (Exception e)
        {
            call.SetException(call.Unreadable(isError ? "error reply" : "reply", e));
        }
    }

    /// <summary>
    /// Hands one message of a streamed result to its call, which stays in the map until its end or error marker.
    /// Returns false for a message nobody waits for (the stream was cancelled, failed, or is foreign). A message the
    /// call cannot read ends the stream, as <see cref="Deliver"/> ends a call.
    /// </summary>
    public bool TryStream(string? correlationId, string kind, long sequence, ReadOnlySpan<byte> body, bool isError)
    {
        if (correlationId is null || !_calls.TryGetValue(correlationId, out var call)) return false;
        try
        {
            return call.OnStreamMessage(kind, sequence, body, isError);
        }
        catch (Exception e)
        {
            Abandon(call, call.Unreadable($"stream message '{kind}'", e));
            return true;
        }
    }

    /// <summary>Removes a finished call (a stream's end or error marker) so nothing else completes it; false when someone else did.</summary>
    internal bool TryFinish(PendingCall call)
    {
        if (!_calls.TryRemove(new(call.CorrelationId, call))) return false;
        Release(call);
        return true;
    }

    /// <summary>The caller gave up on a call that is still running (a stream it stopped reading): fail it and tell the servers.</summary>
    internal void Abandon(PendingCall call, Exception exception)
    {
        if (!TryFinish(call)) return;
        call.SetException(exception);
        _observer?.Abandoned(call);
    }

    /// <summary>Finds a call still waiting, e.g. the one whose request the broker returned as unroutable.</summary>
    public bool TryGet(string correlationId, [NotNullWhen(true)] out PendingCall? call) => _calls.TryGetValue(correlationId, out call);

    public void Fail(PendingCall call, Exception exception)
    {
        if (!_calls.TryRemove(new(call.CorrelationId, call))) return;
        Release(call);
        call.SetException(exception);
    }

    /// <summary>Fails every call in flight, e.g. when the connection is lost and no reply can come back.</summary>
    public void FailAll(Func<PendingCall, Exception> exceptionFor)
    {
        foreach (var entry in _calls)
        {
            Fail(entry.Value, exceptionFor(entry.Value));
        }
    }

    /// <summary>
    /// Fails every call in flight with an exception made from the call's service and method and the text
    /// "RPC {Service}.{Method}: <paramref name="why"/>" (<see cref="CallFailures.Text"/>).
    /// </summary>
    public void FailAll(string why, Func<string, string, string, Exception> exceptionFor)
    {
        foreach (var entry in _calls)
        {
            var method = entry.Value.Method;
            Fail(entry.Value, exceptionFor(CallFailures.Text(method, why), method.Service.Name, method.WireName));
        }
    }

    /// <summary>A streamed result's caller grants more credit (an absolute sequence number), or resends its last grant.</summary>
    internal void GrantCredit(PendingCall call, long credit) => _observer?.CreditGranted(call, credit);

    private void OnTimeout(PendingCall call)
    {
        if (!_calls.TryRemove(new(call.CorrelationId, call))) return;
        Release(call);
        call.SetException(new RpcTimeoutException(call.Method.Service.Name, call.Method.WireName, call.Queue, call.Timeout));
        _observer?.Abandoned(call);
    }

    private void OnCanceled(PendingCall call, CancellationToken token)
    {
        if (!_calls.TryRemove(new(call.CorrelationId, call))) return;
        Release(call);
        call.SetCanceled(token);
        _observer?.Abandoned(call);
    }

    /// <summary>Called exactly once per call, by whoever removed it from the map.</summary>
    private void Release(PendingCall call)
    {
        Interlocked.Decrement(ref _waiting);
        // A full fence before reading the registration, paired with the one in Add after writing it.
        Interlocked.Exchange(ref call.State, PendingCall.Done);
        call.CancellationRegistration.Unregister();
    }

    internal PendingCall<T> Create<T>(RpcMethodDescriptor method, string queue, TimeSpan timeout,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>? resultType, System.Text.Json.JsonSerializerOptions? json = null) =>
        new(this, NextCorrelationId(), method, queue, timeout, resultType, json);
}

/// <summary>What <see cref="PendingCalls"/> needs done outside it; every member runs on the sweep or a reply's thread and must not block.</summary>
internal interface IPendingCallObserver
{
    /// <summary>A call has waited its server-check delay without a reply: ask whether anyone serves its queue (and set its next <see cref="PendingCall.CheckAt"/>).</summary>
    void ServerCheckDue(PendingCall call);

    /// <summary>The caller gave up on a call (its token fired, or its timeout, or it stopped reading a stream): the server may still be running it.</summary>
    void Abandoned(PendingCall call);

    /// <summary>A streamed result's caller grants credit up to <paramref name="credit"/> (absolute), or resends its last grant.</summary>
    void CreditGranted(PendingCall call, long credit);
}

/// <summary>The "RPC {Service}.{Method}: ..." text every client-side failure starts with.</summary>
internal static class CallFailures
{
    public static string Text(RpcMethodDescriptor method, string why) => $"RPC {method.Service.Name}.{method.WireName}: {why}";
}

/// <summary>One call waiting for its reply: what matches a reply to it and what times it out.</summary>
internal abstract class PendingCall
{
    /// <summary>When the call times out, in <see cref="MonotonicClock"/> milliseconds of its owner's clock.</summary>
    public long DueAt;

    public const int Created = 0, Waiting = 1, Done = 2;

    /// <summary><see cref="Waiting"/> from Add until whoever removed the call from the map completes it (<see cref="Done"/>).</summary>
    public int State;
    public CancellationTokenRegistration CancellationRegistration;

    /// <summary>
    /// When the sweep next asks whether anyone serves the queue (<see cref="MonotonicClock"/> ms); 0: never (a
    /// call that waits for a server, or a stream that has heard from one). What the checks found is <see cref="ServerAvailability"/>'s.
    /// </summary>
    public long CheckAt;

    /// <summary>The correlation id of the batch message the call's request went out in; null for a call sent alone.</summary>
    public string? BatchId;

    /// <summary>Still waiting for its reply: not yet answered, timed out, cancelled or failed.</summary>
    public bool IsPending => Volatile.Read(ref State) == Waiting;

    protected PendingCall(PendingCalls owner, string correlationId, RpcMethodDescriptor method, string queue, TimeSpan timeout)
        : this(owner, correlationId, method, queue, timeout, owner.Time.GetUtcNow().ToUnixTimeMilliseconds() + (long)timeout.TotalMilliseconds)
    {
    }

    /// <summary>A call whose <see cref="Deadline"/> (Unix ms; 0 for none, a stream without a total deadline) is not its timeout's.</summary>
    protected PendingCall(PendingCalls owner, string correlationId, RpcMethodDescriptor method, string queue, TimeSpan timeout, long deadline)
    {
        Queue = queue;
        Deadline = deadline;
        Owner = owner;
        CorrelationId = correlationId;
        Method = method;
        Timeout = timeout;
    }

    public PendingCalls Owner { get; }
    public string CorrelationId { get; }
    public RpcMethodDescriptor Method { get; }
    public string Queue { get; }

    /// <summary>
    /// When the caller stops waiting, in Unix milliseconds: sent on a call's request so a late request is not run, and on
    /// a cancel so a server remembers it that long. 0: no deadline (a stream without <see cref="RpcCallOptions.StreamDeadline"/>).
    /// </summary>
    public long Deadline { get; }
    public TimeSpan Timeout { get; }

    public abstract void SetReply(ReadOnlySpan<byte> body, bool isError);

    /// <summary>The exception for a reply this call could not read: service, method, queue and why.</summary>
    internal RpcSerializationException Unreadable(string what, Exception cause) => new(
        CallFailures.Text(Method, $"the {what} from queue '{Queue}' cannot be read ({cause.GetType().Name}: {cause.Message})."),
        Method.Service.Name, Method.WireName, cause);

    /// <summary>One message of a streamed result (docs/wire-format.md, "Streaming results"); false when this call does not stream.</summary>
    public virtual bool OnStreamMessage(string kind, long sequence, ReadOnlySpan<byte> body, bool isError) => false;
    public abstract void SetException(Exception exception);
    public abstract void SetCanceled(CancellationToken token);
}

/// <summary>A call whose result is a <typeparamref name="T"/>; deserialises the reply where it arrives, so its body is never copied.</summary>
internal sealed class PendingCall<T> : PendingCall
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>? _resultType;

    private readonly System.Text.Json.JsonSerializerOptions? _json;

    public PendingCall(PendingCalls owner, string correlationId, RpcMethodDescriptor method, string queue, TimeSpan timeout,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>? resultType, System.Text.Json.JsonSerializerOptions? json)
        : base(owner, correlationId, method, queue, timeout)
    {
        _resultType = resultType;
        _json = json ?? resultType?.Options;
    }

    public Task<T> Task => _completion.Task;

    public override void SetReply(ReadOnlySpan<byte> body, bool isError)
    {
        if (isError)
        {
            _completion.TrySetException(RemoteErrors.ToException(Method, Queue, body, _json));
            return;
        }

        if (_resultType is null)
        {
            _completion.TrySetResult(default!);
            return;
        }

        try
        {
            _completion.TrySetResult(System.Text.Json.JsonSerializer.Deserialize(body, _resultType)!);
        }
        catch (Exception e)
        {
            _completion.TrySetException(new RpcSerializationException(
                CallFailures.Text(Method, $"the reply from queue '{Queue}' is not a valid {typeof(T).Name}: {e.Message}"),
                Method.Service.Name, Method.WireName, e));
        }
    }

    public override void SetException(Exception exception) => _completion.TrySetException(exception);

    public override void SetCanceled(CancellationToken token) => _completion.TrySetCanceled(token);
}
