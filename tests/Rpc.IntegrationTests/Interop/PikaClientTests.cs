using System.Text.Json;
using RpcGen.IntegrationTests.Infrastructure;
using Samples.Fibonacci;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>Plain pika clients that know nothing of RpcGen call RpcGen servers (docs/wire-format.md).</summary>
public sealed class PikaClientTests
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);

    private static long Fib(int n)
    {
        long previous = 1, current = 0;
        for (int i = 0; i < n; i++) (previous, current) = (current, previous + current);
        return current;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_tutorial_client_gets_fibonacci_numbers_from_an_RpcGen_server(bool directReplyTo)
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var server = await broker.ServeAsync<IFibonacci>(rpc, new FibonacciService());
        // Several n, then many calls in a row on the one connection the script opens.
        var numbers = new[] { 0, 1, 2, 3, 10, 30, 50, 92 }.Concat(Enumerable.Range(0, 300).Select(i => (i * 37) % 93)).ToArray();
        var arguments = new List<string> { "--amqp", TestBroker.Uri.ToString(), "--queue", server.Queue };
        if (directReplyTo) arguments.Add("--direct-reply-to");
        arguments.AddRange(numbers.Select(n => n.ToString()));

        var lines = await PythonScript.RunAsync(ScriptTimeout, "fib_client.py", arguments.ToArray());

        Assert.Equal(numbers.Select(n => $"{n} {Fib(n)}"), lines);
        Assert.Equal(7_540_113_804_746_346_429L, Fib(92)); // the reference itself, against a known value
        await Wait.UntilAsync(() => server.Served == numbers.Length, $"server answered {server.Served} of {numbers.Length}");
    }

    [Fact]
    public async Task A_pika_client_calls_methods_by_type_with_JSON_arguments_and_reads_results_and_errors()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var implementation = new Calculator();
        var server = await broker.ServeAsync<ICalculator>(rpc, implementation);

        var replies = await RunJsonClientAsync(server.Queue,
            "Add", """{"a": 40, "b": 2}""",                            // two parameters: a JSON object keyed by name
            "Add", """{"b": 2, "a": 40}""",                            // in any order
            "sum", "[1.5, 2, 3]",                                      // one parameter: its JSON value as is; [RpcMethod] name
            "Echo", "\"héllo \\\"wörld\\\"\"",                         // a JSON string
            "Move", """{"point": {"X": 1, "Y": 2}, "dx": 10, "dy": 16}""", // nested object: C# property names by default
            "Move", """{"point": {"x": 1, "y": 2}, "dx": 10, "dy": 16}""", // ... matched case-sensitively: x and y are ignored
            "Reset", "",                                               // no parameters: empty body, empty result
            "CountResets", "",
            "Fail", "\"the disk is full\"");                          // handler exception: error reply with the .NET type

        Assert.Equal(9, replies.Count);
        Assert.Equal(42, Result(replies[0]).GetInt32());
        Assert.Equal(42, Result(replies[1]).GetInt32());
        Assert.Equal(6.5, Result(replies[2]).GetDouble());
        Assert.Equal("héllo \"wörld\"", Result(replies[3]).GetString());
        Assert.Equal(11, Result(replies[4]).GetProperty("X").GetInt32());
        Assert.Equal(18, Result(replies[4]).GetProperty("Y").GetInt32());
        Assert.Equal(10, Result(replies[5]).GetProperty("X").GetInt32());
        Assert.Equal(16, Result(replies[5]).GetProperty("Y").GetInt32());
        Assert.Equal(JsonValueKind.Null, Result(replies[6]).ValueKind);
        Assert.Equal(1, Result(replies[7]).GetInt32());
        Assert.Equal(("System.InvalidOperationException", "the disk is full"), Error(replies[8]));
    }

    [Fact]
    public async Task A_pika_client_sending_garbage_gets_documented_error_replies_and_its_next_call_succeeds()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var calculator = await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        var fibonacci = await broker.ServeAsync<IFibonacci>(rpc, new FibonacciService());

        var toCalculator = await RunJsonClientAsync(calculator.Queue,
            "Add", "this is not JSON",
            "Add", "[40, 2]",
            "Add", """{"a": 40}""",
            "Divide", """{"a": 40, "b": 2}""",
            "-", """{"a": 40, "b": 2}""",
            "Add", """{"a": 40, "b": 2}""");
        // The json_client.py example of docs/wire-format.md, between bodies without a type.
        var toFibonacci = await RunJsonClientAsync(fibonacci.Queue,
            "-", "not a number",
            "Fib", "10",
            "Fib", "\"ten\"",
            "Fib", "100",
            "-", "9");

        Assert.Equal("rpc:bad-request", Error(toCalculator[0]).Type);
        Assert.Contains("not valid JSON", Error(toCalculator[0]).Message);
        Assert.Equal("rpc:bad-request", Error(toCalculator[1]).Type);
        Assert.Contains("'a', 'b'", Error(toCalculator[1]).Message);
        Assert.Equal("rpc:bad-request", Error(toCalculator[2]).Type);
        Assert.Contains("'b'", Error(toCalculator[2]).Message);
        Assert.Equal("rpc:unknown-method", Error(toCalculator[3]).Type);
        Assert.Contains("Divide", Error(toCalculator[3]).Message);
        Assert.Equal("rpc:unknown-method", Error(toCalculator[4]).Type);
        Assert.Contains("no 'type'", Error(toCalculator[4]).Message);
        Assert.Equal(42, Result(toCalculator[5]).GetInt32());

        Assert.Equal("rpc:bad-request", Error(toFibonacci[0]).Type);
        Assert.Equal("""{"ok": true, "result": 55}""", toFibonacci[1].GetRawText());
        Assert.Equal("rpc:bad-request", Error(toFibonacci[2]).Type);
        Assert.StartsWith("Argument 'n' of method 'Fib' is not a valid Int32: ", Error(toFibonacci[2]).Message);
        Assert.Equal("System.ArgumentOutOfRangeException", Error(toFibonacci[3]).Type);
        Assert.StartsWith("n must be between 0 and 92 ", Error(toFibonacci[3]).Message);
        Assert.Equal(34, Result(toFibonacci[4]).GetInt64());

        // Every request was answered and acked once: nothing went back to the queue.
        await Wait.UntilAsync(() => calculator.Served == 6 && fibonacci.Served == 5 && calculator.InFlight == 0,
            $"served {calculator.Served} and {fibonacci.Served}");
        await Task.Delay(200);
        Assert.Equal(6, calculator.Served);
        Assert.Equal(5, fibonacci.Served);
    }

    private static async Task<IReadOnlyList<JsonElement>> RunJsonClientAsync(string queue, params string[] calls)
    {
        var lines = await PythonScript.RunAsync(ScriptTimeout, "json_client.py",
            new[] { "--amqp", TestBroker.Uri.ToString(), queue }.Concat(calls).ToArray());
        Assert.Equal(calls.Length / 2, lines.Count);
        return lines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToArray();
    }

    private static JsonElement Result(JsonElement reply)
    {
        Assert.True(reply.GetProperty("ok").GetBoolean(), $"expected a result, got {reply}");
        return reply.GetProperty("result");
    }

    private static (string? Type, string? Message) Error(JsonElement reply)
    {
        Assert.False(reply.GetProperty("ok").GetBoolean(), $"expected an error, got {reply}");
        return (reply.GetProperty("type").GetString(), reply.GetProperty("message").GetString());
    }
}
