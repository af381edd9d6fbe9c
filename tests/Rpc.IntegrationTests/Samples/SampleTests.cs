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

    [Fact]
    public async Task The_shop_places_orders_over_rpc_and_both_groups_get_their_events_the_late_one_from_its_queue()
    {
        var (exitCode, stdout, stderr) = await RunAsync("Samples.Shop.dll", ["--amqp", TestBroker.Uri.ToString()]);

        Assert.True(exitCode == 0, stderr + stdout);
        Assert.Matches(@"orders +placed \w+-1 for 65\.00 \(eu\); OrderPlaced published", stdout);
        Assert.Matches(@"orders +refused \w+-3: out of stock: 5 x lamp", stdout);
        Assert.Matches(@"orders +refused \w+-4: payments said card declined: 360\.00 is over the 300 limit", stdout);
        Assert.Matches(@"stock +released 3 x chair", stdout);
        Assert.Matches(@"logistics +ships \w+-2 \(1 x chair\) to us", stdout);
        Assert.DoesNotMatch(@"logistics +ships \w+-5", stdout);   // asia is not bound for logistics
        Assert.Matches(@"notifications is still down: [1-9]\d* OrderPlaced events are waiting in its durable queue 'shop.notifications'", stdout);
        Assert.Matches(@"notifications mails the receipt of \w+-5: 80\.00 paid", stdout);
        // The late subscriber handled nothing before it started.
        Assert.True(stdout.IndexOf("notifications mails", StringComparison.Ordinal) > stdout.IndexOf("is still down", StringComparison.Ordinal));
        Assert.Contains("Done: 3 orders placed, 2 refused; logistics handled 2 of 2, notifications 3 of 3", stdout);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunSampleAsync(params string[] args) =>
        RunAsync("Samples.Fibonacci.dll", args);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string sample, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, sample));
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
