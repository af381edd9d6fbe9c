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
            while (await _process.StandardOutput.ReadLineAsync() is { } line) Console.Error.WriteLine("server: " + line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
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
            while (await Console.In.ReadLineAsync() is not null)
            {
            }

            return 0;
        }
        finally
        {
            foreach (var server in servers) await server.DisposeAsync();
        }
    }
}
