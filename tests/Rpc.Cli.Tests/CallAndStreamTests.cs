using System.Text.Json;
using RpcGen.Cli.Tests.Infrastructure;
using RpcGen.IntegrationTests.Infrastructure;
using Samples.Fibonacci;

namespace RpcGen.Cli.Tests;

/// <summary>rpcgen call and stream against the Fibonacci contract served on the real broker: every outcome and its exit code.</summary>
public sealed class CallAndStreamTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();
    private readonly RecordingFibonacci _fibonacci = new();

    public async Task InitializeAsync()
    {
        var connection = await _broker.ConnectAsync();
        await _broker.ServeAsync<IFibonacci>(connection, _fibonacci);
        await _broker.ServeAsync<IFibonacciSequence>(connection, _fibonacci);
    }

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();

    private Task<CliResult> Rpcgen(params string[] args) => CliProcess.RunAsync(_broker.Prefix, args);

    [Fact]
    public async Task A_call_prints_the_result_as_JSON_and_exits_0()
    {
        var result = await Rpcgen("call", "Fibonacci.Fib", "30");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("832040", result.Stdout.Trim());
    }

    [Fact]
    public async Task Headers_and_the_user_reach_the_server()
    {
        // The URI's credentials are wrong on purpose: --user replaces them, so the call works only if it is used.
        var broker = new UriBuilder(TestBroker.Uri) { UserName = "nobody", Password = "wrong" }.Uri;
        var result = await CliProcess.RunAsync(_broker.Prefix, broker, "call", "Fibonacci.Fib", "10", "--header", "tenant=acme", "-H", "request=42", "--user", "guest:guest");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("55", result.Stdout.Trim());
        var call = Assert.Single(_fibonacci.Calls);
        Assert.Equal("acme", call.Headers["tenant"]);
        Assert.Equal("42", call.Headers["request"]);
        Assert.Equal("guest", call.UserId);
        Assert.NotNull(call.Deadline);
    }

    [Fact]
    public async Task A_declared_fault_prints_its_data_and_exits_3()
    {
        var result = await Rpcgen("call", "Fibonacci.Fib", "99");
        Assert.True(result.ExitCode == 3, result.ToString());
        using var fault = JsonDocument.Parse(result.Stdout);
        Assert.Equal("Samples.Fibonacci.FibonacciRangeException", fault.RootElement.GetProperty("fault").GetString());
        Assert.Equal(100, fault.RootElement.GetProperty("data").GetProperty("Requested").GetInt32());
        Assert.Equal(93, fault.RootElement.GetProperty("data").GetProperty("Limit").GetInt32());
    }

    [Fact]
    public async Task An_undeclared_error_exits_4_and_says_what_the_server_said()
    {
        var result = await Rpcgen("call", "Fibonacci.Fib", "-1");
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("error (remote error): Fibonacci.Fib failed on the server: System.ArgumentOutOfRangeException", result.Stderr);
    }

    [Fact]
    public async Task A_timeout_or_a_passed_deadline_exits_5()
    {
        var timedOut = await Rpcgen("call", "Fibonacci.Fib", "77", "--timeout", "300ms");
        Assert.True(timedOut.ExitCode == 5, timedOut.ToString());
        Assert.Contains("timed out after 300 ms", timedOut.Stderr);

        var deadline = await Rpcgen("call", "Fibonacci.Fib", "77", "--deadline", DateTimeOffset.UtcNow.AddSeconds(2).ToString("O"));
        Assert.True(deadline.ExitCode == 5, deadline.ToString());

        var passed = await Rpcgen("call", "Fibonacci.Fib", "3", "--deadline", "2020-01-01T00:00:00Z");
        Assert.True(passed.ExitCode == 5, passed.ToString());
        Assert.Contains("has passed; Fibonacci.Fib was not sent", passed.Stderr);
    }

    [Fact]
    public async Task A_service_nobody_serves_exits_6()
    {
        var result = await CliProcess.RunAsync(_broker.Prefix + "nobody.", "call", "Fibonacci.Fib", "3");
        Assert.True(result.ExitCode == 6, result.ToString());
        Assert.Contains($"no queue '{_broker.Prefix}nobody.Fibonacci' exists", result.Stderr);
    }

    [Fact]
    public async Task A_stream_prints_each_item_as_a_line_within_its_window()
    {
        var result = await Rpcgen("stream", "FibonacciSequence.Sequence", "{\"count\":40}", "--window", "4");
        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = new List<long>();
        await foreach (var item in new FibonacciSequenceService().SequenceAsync(40)) expected.Add(item);
        Assert.Equal(expected, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse));
        Assert.Contains("40 items; the stream ended.", result.Stderr);
    }

    [Fact]
    public async Task A_stream_refused_with_its_declared_fault_exits_3()
    {
        var result = await Rpcgen("stream", "FibonacciSequence.Sequence", "{\"count\":100}");
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("\"Requested\": 100", result.Stdout);
    }
}
