using System.Diagnostics;
using System.Runtime.InteropServices;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>What one contender did in one open-loop window at a fixed offered rate.</summary>
public sealed record OpenLoopResult(
    double OfferedPerSecond,
    long Calls,
    double Seconds,
    long[] LatencyTicks,
    long[] SendLagTicks,
    int MostPending,
    HostLoad Host)
{
    public double CompletedPerSecond => Calls / Seconds;
}

/// <summary>
/// Latency at a fixed offered load: calls are started on a fixed schedule (call i at t0 + i / rate), whatever happened
/// to the calls before them, and each call's latency runs from its <em>scheduled</em> start to its answer. A closed
/// loop (a caller waiting for its answer before the next call) sends less while the system stalls and so hides the
/// stall from its percentiles; here a stall delays every call scheduled during it, and they all count.
/// </summary>
public static class OpenLoopRunner
{
    private sealed class State(int recorded)
    {
        public readonly long[] Latencies = new long[recorded];
        public readonly long[] SendLags = new long[recorded];
        public int Pending;
        public int MostPending;
        public long Finished;
        public long Started;
        public long CompletedInWindow;
        public volatile bool GeneratorDone;
        public Exception? Failure;
        public readonly TaskCompletionSource AllDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <param name="workers">How many of the client's workers (<see cref="IContenderClient.ForWorker"/>) share the calls, round robin.</param>
    /// <param name="maxPending">The most calls outstanding at once; past it the schedule waits, and the wait counts in the latency of the calls it delays.</param>
    public static async Task<OpenLoopResult> MeasureAsync(IContenderClient client, int workers, PayloadKind kind, Payload? payload, double rate,
        TimeSpan warmup, TimeSpan window, int maxPending)
    {
        long firstRecorded = (long)Math.Ceiling(warmup.TotalSeconds * rate);
        long total = firstRecorded + Math.Max(1, (long)Math.Ceiling(window.TotalSeconds * rate));
        var state = new State((int)(total - firstRecorded));
        double ticksPerCall = Stopwatch.Frequency / rate;
        long t0 = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100; // 10 ms to get the schedule thread going
        long windowStart = t0 + (long)(firstRecorded * ticksPerCall);
        long windowEnd = t0 + (long)(total * ticksPerCall);
        HostCpu hostBefore = default, hostAfter = default;

        var generator = new Thread(() =>
        {
            try
            {
                for (long i = 0; i < total && state.Failure is null; i++)
                {
                    long due = t0 + (long)(i * ticksPerCall);
                    if (i == firstRecorded) { WaitUntil(due); hostBefore = HostCpu.Read(); }
                    WaitUntil(due);
                    while (Volatile.Read(ref state.Pending) >= maxPending && state.Failure is null) Pause(TimeSpan.FromMilliseconds(0.1));
                    int pending = Interlocked.Increment(ref state.Pending);
                    if (pending > state.MostPending) state.MostPending = pending;
                    Interlocked.Increment(ref state.Started);
                    Start(client.ForWorker((int)(i % workers)), kind, payload, state, i, due, i >= firstRecorded ? (int)(i - firstRecorded) : -1, windowStart, windowEnd);
                }

                WaitUntil(windowEnd);
                hostAfter = HostCpu.Read();
            }
            catch (Exception e)
            {
                state.Failure ??= e;
            }
            finally
            {
                state.GeneratorDone = true;
                if (Interlocked.Read(ref state.Finished) == Interlocked.Read(ref state.Started)) state.AllDone.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "open-loop schedule",
            Priority = ThreadPriority.AboveNormal,
        };
        generator.Start();

        var drained = await Task.WhenAny(state.AllDone.Task, Task.Delay(window + warmup + TimeSpan.FromSeconds(60)));
        if (drained != state.AllDone.Task)
        {
            throw new TimeoutException($"At {rate:0} calls/s offered, {Volatile.Read(ref state.Pending)} calls were still unanswered 60 s after the schedule ended.");
        }

        generator.Join();
        if (state.Failure is not null) throw new InvalidOperationException("A call failed or returned a wrong answer at a fixed offered load.", state.Failure);
        return new OpenLoopResult(rate, state.CompletedInWindow, (double)(windowEnd - windowStart) / Stopwatch.Frequency, state.Latencies, state.SendLags,
            state.MostPending, HostCpu.Between(hostBefore, hostAfter));
    }

    private static void Start(IBenchClient client, PayloadKind kind, Payload? payload, State state, long call, long due, int slot, long windowStart, long windowEnd)
    {
        long sent = Stopwatch.GetTimestamp();
        if (slot >= 0) state.SendLags[slot] = sent - due;
        try
        {
            if (kind == PayloadKind.Int)
            {
                int value = (int)(call % 1_000_000_000);
                _ = TrackIntAsync(client.IncrementAsync(value), value, state, due, slot, windowStart, windowEnd);
            }
            else
            {
                _ = TrackEchoAsync(client.EchoAsync(payload!), payload!, state, due, slot, windowStart, windowEnd);
            }
        }
        catch (Exception e)
        {
            state.Failure ??= e;
            Finish(state, due, slot, windowStart, windowEnd);
        }
    }

    private static async Task TrackIntAsync(Task<int> call, int value, State state, long due, int slot, long windowStart, long windowEnd)
    {
        try
        {
            int answer = await call.ConfigureAwait(false);
            if (answer != BenchService.Increment(value)) state.Failure ??= new InvalidOperationException($"Increment({value}) returned {answer}.");
        }
        catch (Exception e)
        {
            state.Failure ??= e;
        }

        Finish(state, due, slot, windowStart, windowEnd);
    }

    private static async Task TrackEchoAsync(Task<Payload> call, Payload payload, State state, long due, int slot, long windowStart, long windowEnd)
    {
        try
        {
            var answer = await call.ConfigureAwait(false);
            if (answer.Id != payload.Id || answer.Items.Length != payload.Items.Length) state.Failure ??= new InvalidOperationException("Echo returned another payload.");
        }
        catch (Exception e)
        {
            state.Failure ??= e;
        }

        Finish(state, due, slot, windowStart, windowEnd);
    }

    private static void Finish(State state, long due, int slot, long windowStart, long windowEnd)
    {
        long now = Stopwatch.GetTimestamp();
        if (slot >= 0) state.Latencies[slot] = now - due;
        if (now >= windowStart && now < windowEnd) Interlocked.Increment(ref state.CompletedInWindow);
        Interlocked.Decrement(ref state.Pending);
        long finished = Interlocked.Increment(ref state.Finished);
        if (state.GeneratorDone && finished == Interlocked.Read(ref state.Started)) state.AllDone.TrySetResult();
    }

    /// <summary>Sleeps until a timestamp, to within about a tenth of a millisecond, without spinning a core.</summary>
    private static void WaitUntil(long timestamp)
    {
        while (true)
        {
            long remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0) return;
            Pause(TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        }
    }

    private static void Pause(TimeSpan wait)
    {
        // Thread.Sleep's unit is a millisecond, too coarse for a schedule of thousands of calls a second; usleep is finer.
        if (OperatingSystem.IsLinux() && wait < TimeSpan.FromMilliseconds(2))
        {
            _ = Native.usleep((uint)Math.Max(1, wait.TotalMicroseconds));
        }
        else
        {
            Thread.Sleep(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds, 1)));
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = false)]
        public static extern int usleep(uint microseconds);
    }
}
