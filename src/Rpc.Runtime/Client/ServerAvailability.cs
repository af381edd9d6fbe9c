using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;

namespace RpcGen.Client;

/// <summary>
/// Fails fast a call to a queue nobody consumes. Only a call that has waited <see cref="RpcClientOptions.ServerCheckDelay"/>
/// without a reply asks (from the timeout sweep): one passive declare per queue on a channel of its own, whose answer
/// (exists, consumer count, ready messages) all calls to that queue waiting meanwhile share and which is reused for half a second.
/// A call answered in time never reaches this class, so the hot path pays nothing.
/// </summary>
/// <remarks>
/// "Unavailable" must mean "not run", so a caller may retry it safely. A request already published to a queue with no
/// consumer still waits there and runs if a server starts before it expires: that call fails with
/// <see cref="RpcRequestQueuedException"/>, and the queue is remembered as down. While it is, each new call asks the
/// broker before publishing (one probe shared by the calls that start while it is under way) and fails with
/// <see cref="RpcServiceUnavailableException"/>, unsent, as long as the answer is still "no consumer".
/// </remarks>
internal sealed class ServerAvailability
{
    private const long ReuseMs = 500;

    // How long a queue must go on showing no consumer before a call fails. A quorum queue that lost its leader's node
    // shows none until a new leader is elected and the consumers attach again: on a loaded two-core host that took
    // longer than half a second (NodeLossTests), so half a second turned failovers into false "nobody serves" answers.
    private const long ConfirmMs = 1000;

    private readonly long _intervalMs;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<string, QueueCheck> _checks = new(StringComparer.Ordinal);

    // The calls whose last check found their queue without consumers, by correlation id: a second such answer fails
    // them. Only calls that waited long and saw no consumer come here, never a call answered in time.
    private readonly Dictionary<string, PendingCall> _sawNoConsumer = new(StringComparer.Ordinal);
    private readonly ManagedChannel _channel;
    private readonly SemaphoreSlim _probeGate = new(1, 1); // one probe at a time: a 404 closes the channel under the others
    private int _downQueues;

    /// <param name="connection">The connection the probe channel is opened on.</param>
    /// <param name="interval">How long a call waits between checks (<see cref="RpcClientOptions.ServerCheckDelay"/>).</param>
    /// <param name="time">The clock of the checks.</param>
    public ServerAvailability(IConnection connection, TimeSpan interval, TimeProvider time)
    {
        _time = time;
        _channel = ManagedChannel.CreateLazy(connection, new CreateChannelOptions(false, false), "server-check channel");
        _intervalMs = (long)interval.TotalMilliseconds;
    }

    /// <summary>Called by the sweep; never blocks it. The call is due for another check one interval later.</summary>
    public void CheckDue(PendingCall call)
    {
        call.CheckAt = MonotonicClock.Milliseconds(_time) + _intervalMs;
        QueueCheck? check;
        lock (_gate)
        {
            if (_sawNoConsumer.Count != 0) ForgetFinished();
            if (!_checks.TryGetValue(call.Queue, out check)) _checks[call.Queue] = check = new QueueCheck();
            if (check.Result is { } known && MonotonicClock.Milliseconds(_time) - check.CheckedAt < ReuseMs)
            {
                Apply(call, known);
                return;
            }

            check.Waiting.Add(call);
            if (check.Running) return;
            check.Running = true;
        }

        _ = RunAsync(call.Queue, check);
    }

    private async Task RunAsync(string queue, QueueCheck check)
    {
        var result = await ProbeAsync(queue).ConfigureAwait(false);
        List<PendingCall> waiting;
        lock (_gate)
        {
            check.Result = result;
            check.CheckedAt = MonotonicClock.Milliseconds(_time);
            check.Running = false;
            if (result is { Consumers: > 0 }) SetDown(check, false);
            waiting = check.Waiting;
            check.Waiting = new List<PendingCall>();
        }

        if (result is { } known)
        {
            foreach (var call in waiting) Apply(call, known);
        }
    }

    /// <summary>True when the last answer for <paramref name="queue"/> failed a call for want of a consumer: ask before publishing.</summary>
    public bool MayBeDown(string queue)
    {
        // Every fail-fast call asks: while no queue is down (nearly always) that costs one read, no lock.
        if (Volatile.Read(ref _downQueues) == 0) return false;
        lock (_gate) return _checks.TryGetValue(queue, out var check) && check.Down;
    }

    /// <summary>
    /// Before publishing to a queue that was down: the exception to fail the call with, unsent, when nobody consumes the
    /// queue still; null when the call may go out (a consumer is back, or the broker could not be asked).
    /// </summary>
    public async Task<RpcServiceUnavailableException?> RefuseUnsentAsync(PendingCall call)
    {
        Task<(bool Exists, uint Consumers, uint Ready)?> probe;
        lock (_gate)
        {
            // No earlier answer is reused here, only a probe under way: a server that started a moment ago is served at once.
            if (!_checks.TryGetValue(call.Queue, out var check)) _checks[call.Queue] = check = new QueueCheck();
            probe = check.Probe ??= ProbeSharedAsync(call.Queue, check);
        }

        return await probe.ConfigureAwait(false) is { } state ? RefusalFor(call, state) : null;
    }

    private async Task<(bool Exists, uint Consumers, uint Ready)?> ProbeSharedAsync(string queue, QueueCheck check)
    {
        await Task.Yield(); // out of the lock its caller holds
        (bool Exists, uint Consumers, uint Ready)? result = null;
        try
        {
            result = await ProbeAsync(queue).ConfigureAwait(false);
        }
        finally
        {
            // Even when the probe threw: the next call asks again instead of awaiting a failed probe for good.
            lock (_gate) check.Probe = null;
        }

        lock (_gate)
        {
            if (result is { } known)
            {
                check.Result = known;
                check.CheckedAt = MonotonicClock.Milliseconds(_time);
                if (known.Consumers > 0) SetDown(check, false);
            }
        }

        return result;
    }

    /// <summary>Under <c>_gate</c>: calls answered, failed or timed out since their first "no consumer" answer.</summary>
    private void ForgetFinished()
    {
        foreach (var (correlationId, call) in _sawNoConsumer)
        {
            if (!call.IsPending) _sawNoConsumer.Remove(correlationId);
        }
    }

    /// <summary>Under <c>_gate</c>.</summary>
    private void SetDown(QueueCheck check, bool down)
    {
        if (check.Down == down) return;
        check.Down = down;
        Interlocked.Add(ref _downQueues, down ? 1 : -1);
    }

    private static RpcServiceUnavailableException? RefusalFor(PendingCall call, (bool Exists, uint Consumers, uint Ready) state) =>
        state.Exists && state.Consumers > 0
            ? null
            : RpcServiceUnavailableException.NotSent(call.Method.Service.Name, call.Method.WireName, call.Queue, state.Exists);

    private void Apply(PendingCall call, (bool Exists, uint Consumers, uint Ready) state)
    {
        // No consumer but nothing ready either: the request was delivered and a server still runs it (one draining
        // on dispose has cancelled its consumer but answers what it holds), so it is not a service nobody runs.
        if (state.Exists && (state.Consumers > 0 || state.Ready == 0))
        {
            lock (_gate) _sawNoConsumer.Remove(call.CorrelationId);
            return;
        }

        lock (_gate)
        {
            // A queue without consumers for a moment (a quorum queue electing a new leader, servers reconnecting after a
            // node loss) is not a service nobody runs: only a second answer, a second later, fails the call.
            if (state.Exists && _sawNoConsumer.TryAdd(call.CorrelationId, call))
            {
                call.CheckAt = MonotonicClock.Milliseconds(_time) + ConfirmMs;
                return;
            }

            _sawNoConsumer.Remove(call.CorrelationId);
            if (_checks.TryGetValue(call.Queue, out var check)) SetDown(check, true);
        }

        // A queue that is gone took the request with it: it will not run. One that exists still holds it.
        call.Owner.Fail(call, state.Exists
            ? new RpcRequestQueuedException(call.Method.Service.Name, call.Method.WireName, call.Queue)
            : new RpcServiceUnavailableException(call.Method.Service.Name, call.Method.WireName, call.Queue, queueExists: false));
    }

    /// <summary>Null when the broker could not be asked (connection down): the call keeps waiting for its timeout.</summary>
    private async Task<(bool Exists, uint Consumers, uint Ready)?> ProbeAsync(string queue)
    {
        await _probeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var channel = await _channel.ReadyAsync(CancellationToken.None).ConfigureAwait(false);
            RpcTelemetry.CountServerCheck(queue);
            var ok = await channel.QueueDeclarePassiveAsync(queue).ConfigureAwait(false);
            return (true, ok.ConsumerCount, ok.MessageCount);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            // A passive declare of a missing queue closes the channel; the next probe opens another.
            return (false, 0, 0);
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException or TimeoutException)
        {
            return null;
        }
        finally
        {
            _probeGate.Release();
        }
    }

    public ValueTask CloseAsync() => _channel.DisposeAsync();

    private sealed class QueueCheck
    {
        public List<PendingCall> Waiting = new();
        public (bool Exists, uint Consumers, uint Ready)? Result;
        public long CheckedAt;
        public bool Running;

        // A call to this queue failed for want of a consumer, and no answer since has shown one.
        public bool Down;

        // The before-publishing probe under way, shared by the calls that start meanwhile.
        public Task<(bool Exists, uint Consumers, uint Ready)?>? Probe;
    }
}
