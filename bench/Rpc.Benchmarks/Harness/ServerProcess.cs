using System.Diagnostics;
using RpcGen.Benchmarks.Contenders;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// The contenders' servers run in a process of their own, so that the harness process holds only clients: its
/// allocation and CPU counters are then the client side's alone. The child lives as long as its standard input.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string ReadyLine = "READY";
    private const string CountersRequest = "counters";
    private const string CountersLine = "COUNTERS ";

    private readonly object _countersGate = new();
    private TaskCompletionSource<ProcessCounters>? _counters;

    private readonly Process _process;

    private ServerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
        }
    }

    public static async Task<ServerProcess> StartAsync(BenchOptions options, BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Under `dotnet Rpc.Benchmarks.dll` the process is the host: hand it the assembly again.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet") start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        foreach (var argument in options.ServerArguments(environment.Prefix, environment.GrpcPort)) start.ArgumentList.Add(argument);

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the benchmark server process.");
        var server = new ServerProcess(process);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"The benchmark server process exited (code {(process.WaitForExit(5000) ? process.ExitCode : -1)}) before it was ready.");
                if (line == ReadyLine) break;
                Console.Error.WriteLine("server: " + line);
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        _ = server.ForwardOutputAsync();
        return server;
    }

    private async Task ForwardOutputAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith(CountersLine, StringComparison.Ordinal))
                {
                    TaskCompletionSource<ProcessCounters>? waiting;
                    lock (_countersGate) (waiting, _counters) = (_counters, null);
                    waiting?.TrySetResult(ProcessCounters.Parse(line[CountersLine.Length..]));
                    continue;
                }

                Console.Error.WriteLine("server: " + line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>The server process's own counters now (thread-pool work items, bytes allocated, lock contentions), asked over its standard input.</summary>
    public async Task<ProcessCounters> ReadCountersAsync()
    {
        var answer = new TaskCompletionSource<ProcessCounters>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_countersGate) _counters = answer;
        await _process.StandardInput.WriteLineAsync(CountersRequest);
        await _process.StandardInput.FlushAsync();
        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    /// <summary>The child's side: serve every contender until standard input closes, then stop them all.</summary>
    public static async Task<int> ServeAsync(BenchOptions options)
    {
        var environment = new BenchEnvironment(options.Amqp, options.Prefix ?? throw new ArgumentException("serve needs --prefix.")) { GrpcPort = options.GrpcPort };
        var servers = new List<IAsyncDisposable>();
        try
        {
            foreach (var contender in options.CreateContenders()) servers.Add(await contender.ServeAsync(environment, CancellationToken.None));
            Console.WriteLine(ReadyLine);
            Console.Out.Flush();
            while (await Console.In.ReadLineAsync() is { } line)
            {
                if (line == CountersRequest)
                {
                    Console.WriteLine(CountersLine + ProcessCounters.Read().Format());
                    Console.Out.Flush();
                }
            }

            return 0;
        }
        finally
        {
            foreach (var server in servers) await server.DisposeAsync();
        }
    }
}

/// <summary>
/// What a process did that does not depend on how busy the host is: thread-pool work items run (each a hop from one
/// thread to another), bytes allocated, and monitor lock contentions. Per call, they compare contenders under any load.
/// </summary>
public readonly record struct ProcessCounters(long WorkItems, long AllocatedBytes, long LockContentions)
{
    public static ProcessCounters Read() => new(ThreadPool.CompletedWorkItemCount, GC.GetTotalAllocatedBytes(precise: false), Monitor.LockContentionCount);

    public static ProcessCounters operator -(ProcessCounters after, ProcessCounters before) =>
        new(after.WorkItems - before.WorkItems, after.AllocatedBytes - before.AllocatedBytes, after.LockContentions - before.LockContentions);

    public string Format() => string.Join(' ', WorkItems, AllocatedBytes, LockContentions);

    public static ProcessCounters Parse(string text)
    {
        var parts = text.Split(' ');
        return new ProcessCounters(long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
    }
}
