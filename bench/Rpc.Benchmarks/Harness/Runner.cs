using System.Diagnostics;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>What one contender did in one measured window.</summary>
public sealed record WindowResult(
    long Calls,
    double Seconds,
    long AllocatedBytes,
    TimeSpan ClientCpu,
    TimeSpan ServerCpu,
    TimeSpan BrokerCpu,
    long[] LatencyTicks,
    HostLoad Host)
{
    /// <summary>What the client process did in the window (harness-side counters); zero unless asked for.</summary>
    public ProcessCounters ClientCounters { get; init; }

    /// <summary>What the server process did in the window; zero unless asked for.</summary>
    public ProcessCounters ServerCounters { get; init; }

    public double CallsPerSecond => Calls / Seconds;
    public double BytesPerCall => Calls == 0 ? 0 : (double)AllocatedBytes / Calls;
    public double ClientCpuMicrosPerCall => Calls == 0 ? 0 : ClientCpu.TotalMicroseconds / Calls;
    public double ServerCpuMicrosPerCall => Calls == 0 ? 0 : ServerCpu.TotalMicroseconds / Calls;
    public double BrokerCpuMicrosPerCall => Calls == 0 ? 0 : BrokerCpu.TotalMicroseconds / Calls;

    /// <summary>What a call cost the machine: client, server and broker CPU time together.</summary>
    public double TotalCpuMicrosPerCall => Calls == 0 ? 0 : (ClientCpu + ServerCpu + BrokerCpu).TotalMicroseconds / Calls;

    /// <summary>The share of the host's cores that something other than client, server and broker used in the window.</summary>
    public double OtherCpuFraction => Host.BusyTime == TimeSpan.Zero || Seconds <= 0
        ? double.NaN
        : Math.Max(0, (Host.BusyTime - ClientCpu - ServerCpu - BrokerCpu).TotalSeconds) / (Environment.ProcessorCount * Seconds);
}

/// <summary>
/// Runs calls from N workers, each awaiting its call before making the next, so exactly N calls are in flight. After
/// a warm-up, a window is measured: calls completed, bytes allocated by this process (the client side: servers run in
/// another process), CPU time of both processes, and with one worker each call's latency.
/// </summary>
public static class Runner
{
    private sealed class LoopState(int latencyCapacity)
    {
        public readonly long[] Latencies = new long[latencyCapacity];
        public int LatencyCount;
        public long Completed;
        public volatile bool Recording;
        public volatile bool Stop;
        public Exception? Failure;
    }

    public static async Task<WindowResult> MeasureAsync(IContenderClient client, PayloadKind kind, Payload? payload, int inFlight,
        TimeSpan warmup, TimeSpan window, Func<TimeSpan> serverCpu, Func<TimeSpan> brokerCpu, AllocationSampler? sampler = null,
        Func<Task<ProcessCounters>>? serverCounters = null)
    {
        // Room for every latency at up to 50,000 calls/s; more than any contender manages here.
        var state = new LoopState(inFlight == 1 ? (int)Math.Min(2_000_000, window.TotalSeconds * 50_000 + 1000) : 0);
        var workers = new Task[inFlight];
        for (int i = 0; i < inFlight; i++) workers[i] = WorkerAsync(client.ForWorker(i), kind, payload, state, i);

        await Task.Delay(warmup);
        var server0 = serverCounters is null ? default : await serverCounters();
        var client0 = ProcessCounters.Read();
        var self = Process.GetCurrentProcess();
        long calls0 = Interlocked.Read(ref state.Completed);
        long bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu0 = self.TotalProcessorTime;
        var serverCpu0 = serverCpu();
        var brokerCpu0 = brokerCpu();
        var host0 = HostCpu.Read();
        long t0 = Stopwatch.GetTimestamp();
        state.Recording = true;
        sampler?.Start();

        await Task.Delay(window);

        state.Recording = false;
        sampler?.Stop();
        long t1 = Stopwatch.GetTimestamp();
        long calls1 = Interlocked.Read(ref state.Completed);
        long bytes1 = GC.GetTotalAllocatedBytes(precise: true);
        self.Refresh();
        var cpu1 = self.TotalProcessorTime;
        var serverCpu1 = serverCpu();
        var brokerCpu1 = brokerCpu();
        var host1 = HostCpu.Read();
        var client1 = ProcessCounters.Read();
        var server1 = serverCounters is null ? default : await serverCounters();
        state.Stop = true;

        // Calls in flight finish on their own; a contender that loses calls must not hang the run.
        var all = Task.WhenAll(workers);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))) != all)
        {
            throw new TimeoutException($"{inFlight} calls in flight did not finish within 60 s after the window.");
        }

        await all;
        if (state.Failure is not null) throw new InvalidOperationException("A call returned a wrong answer.", state.Failure);

        var latencies = state.Latencies.AsSpan(0, Math.Min(state.LatencyCount, state.Latencies.Length)).ToArray();
        return new WindowResult(calls1 - calls0, Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, bytes1 - bytes0, cpu1 - cpu0,
            serverCpu1 - serverCpu0, brokerCpu1 - brokerCpu0, latencies, HostCpu.Between(host0, host1))
        {
            ClientCounters = client1 - client0,
            ServerCounters = server1 - server0,
        };
    }

    private static async Task WorkerAsync(IBenchClient client, PayloadKind kind, Payload? payload, LoopState state, int worker)
    {
        await Task.Yield();
        int value = worker * 1_000_000;
        while (!state.Stop)
        {
            long start = Stopwatch.GetTimestamp();
            if (kind == PayloadKind.Int)
            {
                int answer = await client.IncrementAsync(value);
                if (answer != BenchService.Increment(value)) Fail(state, $"Increment({value}) returned {answer}.");
                value++;
            }
            else
            {
                var answer = await client.EchoAsync(payload!);
                // A cheap check per call; the full comparison is the correctness check's and the test's.
                if (answer.Id != payload!.Id || answer.Items.Length != payload.Items.Length) Fail(state, "Echo returned another payload.");
            }

            long elapsed = Stopwatch.GetTimestamp() - start;
            // Only the latency run (one worker) has room for latencies, so this needs no lock.
            if (state.Recording && state.LatencyCount < state.Latencies.Length) state.Latencies[state.LatencyCount++] = elapsed;
            Interlocked.Increment(ref state.Completed);
        }
    }

    private static void Fail(LoopState state, string message)
    {
        state.Failure ??= new InvalidOperationException(message);
        state.Stop = true;
    }

    /// <summary>Checks that a contender computes the right answers before it is timed.</summary>
    public static async Task VerifyAsync(IContender contender, IContenderClient client, IReadOnlyDictionary<PayloadKind, Payload> payloads)
    {
        var bench = client.ForWorker(0);
        int answer = await bench.IncrementAsync(41);
        if (answer != 42) throw new InvalidOperationException($"{contender.Name}: Increment(41) returned {answer}.");
        foreach (var (kind, payload) in payloads)
        {
            var echoed = await bench.EchoAsync(payload);
            if (!payload.SameAs(echoed)) throw new InvalidOperationException($"{contender.Name}: Echo of the {Payloads.Label(kind)} returned another payload.");
        }
    }
}
