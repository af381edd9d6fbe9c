using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests;

/// <summary>The Fibonacci sample as a user runs it: its own process, its own output.</summary>
public sealed class SampleTests
{
    [Fact]
    public async Task The_demo_serves_and_calls_fibonacci_over_the_broker()
    {
        var (exitCode, stdout, stderr) = await RunSampleAsync("--amqp", TestBroker.Uri.ToString());

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("fib(10) =                   55", stdout);
        Assert.Contains("fib(92) =  7540113804746346429", stdout);
        Assert.Contains("1000 concurrent calls answered correctly", stdout);
        Assert.Contains("fib(100) fails on the server, as it should: System.ArgumentOutOfRangeException", stdout);
    }

    [Fact]
    public async Task An_unreachable_broker_gives_one_line_naming_the_uri_with_the_password_masked()
    {
        var (exitCode, stdout, stderr) = await RunSampleAsync("call", "5", "--amqp", "amqp://guest:hunter2@127.0.0.1:1/");

        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: Cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/", lines[0]);
        Assert.DoesNotContain("hunter2", stderr + stdout);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunSampleAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Samples.Fibonacci.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("RPCGEN_AMQP");
        using var process = Process.Start(start)!;
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
            throw new TimeoutException("the sample did not finish within 60 s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
