using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>What holding many calls unanswered costs: client memory, and the broker's, per pending call.</summary>
public sealed record PendingResult(int Calls, long ClientManagedBytes, long ClientWorkingSetBytes, long BrokerResidentBytes, TimeSpan Drain)
{
    public double ClientManagedBytesPerCall => (double)ClientManagedBytes / Calls;

    public double ClientWorkingSetBytesPerCall => (double)ClientWorkingSetBytes / Calls;

    public double BrokerResidentBytesPerCall => (double)BrokerResidentBytes / Calls;
}

/// <summary>
/// Holds N int calls pending: the server process is stopped (SIGSTOP), the client makes N calls, and once they are
/// all out the client's managed heap (after a full collection), its working set and the broker's resident memory are
/// compared with before. Then the server runs again (SIGCONT), and every call must come back with its answer.
/// Linux only; the servers of every contender share the stopped process, so one contender is measured at a time.
/// </summary>
public static class PendingMemory
{
    public static async Task<PendingResult> MeasureAsync(IContenderClient client, int workers, int calls, int serverPid, int? brokerPid)
    {
        // The same calls once with the server running first, so pools, caches and channels have reached the size these
        // calls give them, and what the measurement sees is what holding the calls costs.
        var warm = new Task<int>[calls];
        for (int i = 0; i < calls; i++) warm[i] = client.ForWorker(i % workers).IncrementAsync(i);
        await Task.WhenAll(warm).WaitAsync(TimeSpan.FromSeconds(90));
        warm = null;
        long managed0 = LiveBytes();
        var self = Process.GetCurrentProcess();
        self.Refresh();
        long workingSet0 = self.WorkingSet64;
        long broker0 = ResidentBytes(brokerPid);

        Signal(serverPid, Sigstop);
        var tasks = new Task<int>[calls];
        try
        {
            for (int i = 0; i < calls; i++) tasks[i] = client.ForWorker(i % workers).IncrementAsync(i);
            // Let the publishes and the broker's queueing settle: all calls are out, none can be answered.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            if (tasks.FirstOrDefault(t => t.IsCompleted) is { } early)
            {
                throw new InvalidOperationException($"A call completed while its server was stopped: {(early.IsFaulted ? early.Exception!.GetBaseException().Message : "answered")}.");
            }
        }
        catch
        {
            Signal(serverPid, Sigcont);
            throw;
        }

        long managed1 = LiveBytes();
        self.Refresh();
        long workingSet1 = self.WorkingSet64;
        long broker1 = ResidentBytes(brokerPid);

        var drain = Stopwatch.StartNew();
        Signal(serverPid, Sigcont);
        var all = Task.WhenAll(tasks);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(90))) != all)
        {
            throw new TimeoutException($"{tasks.Count(t => !t.IsCompleted)} of {calls} pending calls were not answered within 90 s of the server resuming.");
        }

        var answers = await all;
        for (int i = 0; i < calls; i++)
        {
            if (answers[i] != BenchService.Increment(i)) throw new InvalidOperationException($"Pending call Increment({i}) returned {answers[i]}.");
        }

        return new PendingResult(calls, managed1 - managed0, workingSet1 - workingSet0, broker1 - broker0, drain.Elapsed);
    }

    private static long LiveBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private const int Sigcont = 18;
    private const int Sigstop = 19;

    private static void Signal(int pid, int signal)
    {
        if (Native.kill(pid, signal) != 0) throw new InvalidOperationException($"Could not send signal {signal} to the server process {pid}.");
    }

    /// <summary>VmRSS of a process (bytes), 0 when unknown.</summary>
    private static long ResidentBytes(int? pid)
    {
        if (pid is null) return 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return 0;
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int signal);
    }
}
