using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// What a client knows of who reads a queue's batches: whether its batch queue (<see cref="CallBatch.QueueFor"/>) has a
/// consumer, which only servers that read batches are. Learnt with one passive declare per queue, on a channel of its
/// own, at most once per <see cref="RecheckMs"/> and only while calls that could share a message are made; until the
/// first answer, and whenever it is "none", calls go out alone. A batch the broker returns (the queue is gone: its last
/// reader left) says "none" at once.
/// </summary>
internal sealed class BatchReaders
{
    /// <summary>How long an answer is used before it is asked again (servers come and go).</summary>
    public const long RecheckMs = 1000;

    private readonly ConcurrentDictionary<string, Entry> _queues = new(StringComparer.Ordinal);
    private readonly ManagedChannel _channel;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _probeGate = new(1, 1); // one probe at a time: a 404 closes the channel under the others
    private long _probes;

    /// <param name="connection">The connection whose own channel asks the broker.</param>
    /// <param name="time">The clock of <see cref="RecheckMs"/> (the connection's <see cref="RpcConnectionOptions.TimeProvider"/>).</param>
    public BatchReaders(IConnection connection, TimeProvider time)
    {
        _time = time;
        _channel = ManagedChannel.CreateLazy(connection, new CreateChannelOptions(false, false), "batch-readers channel");
    }

    private long Now => MonotonicClock.Milliseconds(_time);

    /// <summary>Passive declares sent so far: what learning cost.</summary>
    public long Probes => Interlocked.Read(ref _probes);

    /// <summary>
    /// Whether batches to <paramref name="queue"/> have a reader, as last learnt; asks again in the background when the
    /// answer is older than <see cref="RecheckMs"/>, so the hot path never waits for the broker.
    /// </summary>
    public bool Present(string queue)
    {
        var entry = _queues.GetOrAdd(queue, static _ => new Entry());
        if (Now >= Volatile.Read(ref entry.CheckAfter) && Interlocked.CompareExchange(ref entry.Checking, 1, 0) == 0)
        {
            _ = CheckAsync(queue, entry);
        }

        return entry.Present;
    }

    /// <summary>A batch came back unrouted: nobody reads batches of this queue now.</summary>
    public void Gone(string queue)
    {
        var entry = _queues.GetOrAdd(queue, static _ => new Entry());
        entry.Present = false;
        Volatile.Write(ref entry.CheckAfter, Now + RecheckMs);
    }

    /// <summary>Asks the broker now and waits for the answer (tests, and a client that wants to know before its first batch).</summary>
    public async Task<bool> CheckNowAsync(string queue)
    {
        var entry = _queues.GetOrAdd(queue, static _ => new Entry());
        entry.Present = await ProbeAsync(queue).ConfigureAwait(false) ?? entry.Present;
        Volatile.Write(ref entry.CheckAfter, Now + RecheckMs);
        return entry.Present;
    }

    private async Task CheckAsync(string queue, Entry entry)
    {
        try
        {
            await Task.Yield(); // off the caller's publish
            if (await ProbeAsync(queue).ConfigureAwait(false) is { } present) entry.Present = present;
        }
        finally
        {
            Volatile.Write(ref entry.CheckAfter, Now + RecheckMs);
            Volatile.Write(ref entry.Checking, 0);
        }
    }

    /// <summary>Null when the broker could not be asked: the last answer stands.</summary>
    private async Task<bool?> ProbeAsync(string queue)
    {
        await _probeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var channel = await _channel.ReadyAsync(CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _probes);
            var ok = await channel.QueueDeclarePassiveAsync(CallBatch.QueueFor(queue)).ConfigureAwait(false);
            return ok.ConsumerCount > 0;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            // No batch queue: no server that reads batches ever served it, or the last one left. The channel is closed; the next probe opens another.
            return false;
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

    private sealed class Entry
    {
        public volatile bool Present;
        public long CheckAfter;
        public int Checking;
    }
}
