using RpcGen.IntegrationTests.Infrastructure;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace RpcGen.Cli.Tests.Infrastructure;

/// <summary>What one run of rpcgen printed and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs rpcgen as a user does: its own process (dotnet RpcGen.Cli.dll, the tool's build output), with the contracts the
/// samples write and the test's broker and queue prefix in the environment, as RPCGEN_CONTRACTS, RPCGEN_AMQP and
/// RPCGEN_QUEUE_PREFIX.
/// </summary>
public static class CliProcess
{
    public static string Assembly { get; } = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CliAssembly").Value!;

    public static ProcessStartInfo StartInfo(string prefix, Uri? broker, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Assembly);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["RPCGEN_CONTRACTS"] = SampleContracts.Directory;
        start.Environment["RPCGEN_AMQP"] = (broker ?? TestBroker.Uri).ToString();
        start.Environment["RPCGEN_QUEUE_PREFIX"] = prefix;
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    public static async Task<CliResult> RunAsync(string prefix, params string[] args) => await RunAsync(prefix, null, args);

    public static async Task<CliResult> RunAsync(string prefix, Uri? broker, params string[] args)
    {
        using var process = Process.Start(StartInfo(prefix, broker, args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rpcgen {string.Join(' ', args)} did not exit within 60 s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts rpcgen and hands back the process, for verbs that run until stopped (tail).</summary>
    public static RunningCli Start(string prefix, params string[] args)
    {
        var process = Process.Start(StartInfo(prefix, null, args))!;
        process.StandardInput.Close();
        return new RunningCli(process);
    }
}

/// <summary>An rpcgen process still running, whose output is collected line by line as it comes.</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public RunningCli(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public async Task<int> WaitAsync(double seconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
