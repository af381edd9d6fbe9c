using System.Diagnostics;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.TestServer;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>Servers crash, stop and overload: every call still gets its own answer, exactly where the docs say.</summary>
public sealed class ServerFaultTests
{
    private readonly ITestOutputHelper _output;

    public ServerFaultTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_server_killed_mid_call_leaves_the_request_to_another_server_which_sees_the_redelivery()
    {
        await using var broker = new TestBroker();
        await using var worker = await WorkerProcess.StartAsync(broker, "doomed");
        var rpc = await broker.ConnectAsync();
        var work = rpc.CreateClient<IWorkService>();

        var call = work.DoAsync(7, 4000);
        await worker.WaitForLineAsync("begin 7");
        var backup = new WorkService("backup");
        await broker.ServeAsync<IWorkService>(await broker.ConnectAsync(), backup);
        worker.Kill();

        var result = await call.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(7, result.Id);
        Assert.Equal("backup", result.Server);
        Assert.True(result.Redelivered);
        Assert.Equal(1, backup.Started);
    }

    [Fact]
    public async Task Disposing_a_server_finishes_and_acks_calls_in_flight_and_leaves_the_rest_queued_for_others()
    {
        await using var broker = new TestBroker();
        var first = new WorkService("first");
        var firstServer = await broker.ServeAsync<IWorkService>(await broker.ConnectAsync(o => o.Server.Prefetch = 4), first);
        var work = (await broker.ConnectAsync()).CreateClient<IWorkService>();

        var calls = Enumerable.Range(0, 10).Select(i => work.DoAsync(i, 500)).ToArray();
        for (int i = 0; i < 200 && first.Started < 4; i++) await Task.Delay(10);
        Assert.Equal(4, first.Started);

        await firstServer.DisposeAsync();
        var answeredByFirst = calls.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result).ToList();
        Assert.Equal(4, answeredByFirst.Count);
        Assert.All(answeredByFirst, r => Assert.Equal("first", r.Server));
        Assert.Equal(4, first.Started); // took nothing new while stopping
        Assert.Equal(6u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("work")));

        var second = new WorkService("second");
        await broker.ServeAsync<IWorkService>(await broker.ConnectAsync(), second);
        var all = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(Enumerable.Range(0, 10), all.Select(r => r.Id));
        Assert.Equal(6, all.Count(r => r.Server == "second"));
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(broker.QueueName("work")));
    }

    [Fact]
    public async Task Prefetch_bounds_what_a_slow_server_takes_and_a_fast_server_takes_the_rest()
    {
        await using var broker = new TestBroker();
        var slow = new ConcurrencyTrackingWork("slow", 300);
        var fast = new ConcurrencyTrackingWork("fast", 1);
        await broker.ServeAsync<IWorkService>(await broker.ConnectAsync(o => o.Server.Prefetch = 2), slow);
        await broker.ServeAsync<IWorkService>(await broker.ConnectAsync(o => o.Server.Prefetch = 2), fast);
        var work = (await broker.ConnectAsync()).CreateClient<IWorkService>();

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => work.DoAsync(i, 0)));

        _output.WriteLine($"slow server: {slow.Calls} calls, at most {slow.MaxConcurrent} at once; fast server: {fast.Calls} calls");
        Assert.Equal(Enumerable.Range(0, 100), results.Select(r => r.Id));
        Assert.True(slow.MaxConcurrent <= 2, $"slow server ran {slow.MaxConcurrent} calls at once with prefetch 2");
        Assert.True(fast.Calls > 5 * slow.Calls, $"fast {fast.Calls} vs slow {slow.Calls}");
    }

    [Fact]
    public async Task Many_connections_and_servers_under_load_every_caller_gets_its_own_answer_and_memory_stays_flat()
    {
        // CI runs a scaled-down load; RPCGEN_FULL=1 runs the full 50,000 calls (docs/reliability.md).
        int total = Environment.GetEnvironmentVariable("RPCGEN_FULL") == "1" ? 50_000 : 12_000;
        const int clients = 4, inFlightPerClient = 256;
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var connections = new List<RpcConnection>();
        for (int i = 0; i < clients; i++) connections.Add(await broker.ConnectAsync());

        long wrong = 0, errors = 0, done = 0;
        long memoryAfterWarmup = 0;
        var watch = Stopwatch.StartNew();
        var workers = new List<Task>();
        int next = 0;
        foreach (var connection in connections)
        {
            var calc = connection.CreateClient<ICalculator>();
            for (int w = 0; w < inFlightPerClient; w++)
            {
                workers.Add(Task.Run(async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) <= total)
                    {
                        try
                        {
                            if (await calc.AddAsync(i, -2 * i) != -i) Interlocked.Increment(ref wrong);
                        }
                        catch (Exception e) when (e is RpcException or TimeoutException)
                        {
                            Interlocked.Increment(ref errors);
                        }

                        if (Interlocked.Increment(ref done) == total / 5) memoryAfterWarmup = GC.GetTotalMemory(forceFullCollection: true);
                    }
                }));
            }
        }

        await Task.WhenAll(workers);
        watch.Stop();
        long memoryAtEnd = GC.GetTotalMemory(forceFullCollection: true);
        _output.WriteLine($"{total} calls, {clients}x{inFlightPerClient} in flight, 2 servers: {total / watch.Elapsed.TotalSeconds:0} calls/s, " +
                          $"wrong {wrong}, errors {errors}, managed heap after warm-up {memoryAfterWarmup / 1024} KiB, at end {memoryAtEnd / 1024} KiB");

        Assert.Equal(0, wrong);
        Assert.Equal(0, errors);
        Assert.Equal(total, done);
        Assert.All(connections, c => Assert.Equal(0, c.PendingCallCount));
        Assert.True(memoryAtEnd - memoryAfterWarmup < 16 * 1024 * 1024, $"heap grew by {(memoryAtEnd - memoryAfterWarmup) / 1024} KiB");
    }

    [Fact]
    public async Task Ten_thousand_timed_out_or_cancelled_calls_leave_no_pending_entries_or_timers_and_expired_requests_never_run()
    {
        await using var broker = new TestBroker();
        // The queues exist (so calls are routable) but nobody consumes them yet.
        // Cancelled calls (30 s expiration) go to a queue of their own, so they cannot reach the server started below.
        var calcQueue = broker.QueueName("calc");
        var cancelPrefix = broker.Prefix + "cancel.";
        var cancelQueue = cancelPrefix + "calc";
        await DeclareAsync(calcQueue, cancelQueue);
        try
        {
            var timingOut = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromMilliseconds(100));
            var cancelling = await broker.ConnectAsync(o => o.QueuePrefix = cancelPrefix);
            var calc = timingOut.CreateClient<ICalculator>();

            var timeouts = Enumerable.Range(0, 5000).Select(i => calc.AddAsync(i, i)).ToArray();
            using var cancel = new CancellationTokenSource();
            var cancelled = Enumerable.Range(0, 5000).Select(i => cancelling.CreateClient<ICalculator>().SlowAsync(i, cancel.Token)).ToArray();
            Assert.Equal(5000, cancelling.PendingCallCount);
            cancel.Cancel();

            foreach (var t in timeouts) await Assert.ThrowsAsync<RpcTimeoutException>(() => t);
            foreach (var t in cancelled) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t);
            Assert.Equal(0, timingOut.PendingCallCount);
            Assert.Equal(0, cancelling.PendingCallCount);

            // Every request on the calc queue has expired (100 ms): a server that starts now must run none of them.
            await Task.Delay(300);
            // Requests that reached the queue in time expired there (AMQP expiration); any published after their caller
            // gave up (the publish queued behind thousands of others) carry a deadline the server checks.
            var calculator = new CountingAdds();
            await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.Server.ClockSkewTolerance = TimeSpan.Zero), calculator);
            var fresh = (await broker.ConnectAsync()).CreateClient<ICalculator>();
            Assert.Equal(3, await fresh.AddAsync(1, 2));
            Assert.Equal(1, calculator.Adds);
        }
        finally
        {
            await DeleteAsync(cancelQueue);
        }
    }

    private static async Task DeclareAsync(params string[] queues)
    {
        await using var raw = await RawAmqp.ConnectAsync();
        foreach (var queue in queues) await raw.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    }

    private static async Task DeleteAsync(string queue)
    {
        await using var raw = await RawAmqp.ConnectAsync();
        await raw.Channel.QueueDeleteAsync(queue);
    }

    private sealed class CountingAdds : Calculator
    {
        private int _adds;
        public int Adds => Volatile.Read(ref _adds);

        public override Task<int> AddAsync(int a, int b)
        {
            Interlocked.Increment(ref _adds);
            return base.AddAsync(a, b);
        }
    }

    private sealed class ConcurrencyTrackingWork : IWorkService
    {
        private readonly string _name;
        private readonly int _delay;
        private int _current, _max, _calls;

        public ConcurrencyTrackingWork(string name, int delay)
        {
            _name = name;
            _delay = delay;
        }

        public int Calls => Volatile.Read(ref _calls);
        public int MaxConcurrent => Volatile.Read(ref _max);

        public async Task<WorkResult> DoAsync(int id, int delayMilliseconds)
        {
            Interlocked.Increment(ref _calls);
            int now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }
            await Task.Delay(_delay);
            Interlocked.Decrement(ref _current);
            return new WorkResult(id, _name, false);
        }
    }
}

/// <summary>Rpc.TestServer in its own process, so a test can kill it like a crash.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();

    private WorkerProcess(Process process) => _process = process;

    public static async Task<WorkerProcess> StartAsync(TestBroker broker, string name)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Rpc.TestServer.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--amqp", TestBroker.Uri.ToString(), "--prefix", broker.Prefix, "--name", name, "--prefetch", "1" })
        {
            start.ArgumentList.Add(arg);
        }

        var worker = new WorkerProcess(Process.Start(start)!);
        worker._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (worker._lines) worker._lines.Add(e.Data); };
        worker._process.BeginOutputReadLine();
        await worker.WaitForLineAsync("ready");
        return worker;
    }

    public async Task WaitForLineAsync(string line)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines) if (_lines.Contains(line)) return;
            if (_process.HasExited) throw new InvalidOperationException($"worker exited with {_process.ExitCode} before printing '{line}'");
            await Task.Delay(20);
        }

        throw new TimeoutException($"worker did not print '{line}' within 30 s");
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
