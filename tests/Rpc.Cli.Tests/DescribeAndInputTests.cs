using RpcGen.Cli.Tests.Infrastructure;
using Samples.Fibonacci;
using Samples.Shop;

namespace RpcGen.Cli.Tests;

/// <summary>What the samples' documents say, what describe makes of them, and the input errors rpcgen refuses before sending.</summary>
public sealed class DescribeAndInputTests
{
    [Fact]
    public void The_documents_say_each_methods_kind_parameters_and_faults_and_describe_events()
    {
        var fibonacci = RpcAsyncApi.CreateDocument<IFibonacci>();
        Assert.Equal("Fibonacci", (string?)fibonacci["x-rpcgen"]!["queue"]);
        // One method only: the RabbitMQ tutorial's clients call it with no "type" (tests/Rpc.IntegrationTests/Interop).
        Assert.Equal("Fib", Assert.Single(fibonacci["operations"]!.AsObject()).Key);
        Assert.Equal("call", (string?)fibonacci["operations"]!["Fib"]!["x-rpcgen"]!["kind"]);
        var sequenceDocument = RpcAsyncApi.CreateDocument<IFibonacciSequence>();
        Assert.Equal("FibonacciSequence", (string?)sequenceDocument["x-rpcgen"]!["queue"]);
        var sequence = sequenceDocument["operations"]!["Sequence"]!["x-rpcgen"]!;
        Assert.Equal("stream", (string?)sequence["kind"]);
        Assert.Equal("Samples.Fibonacci.FibonacciRangeException", (string?)sequence["faults"]![0]);
        Assert.True((bool?)sequence["parameters"]![1]!["optional"]);
        Assert.Equal("integer", (string?)sequenceDocument["components"]!["schemas"]!["Sequence.reply"]!["type"]);

        var stock = RpcAsyncApi.CreateDocument<IStock>();
        Assert.Equal("one-way", (string?)stock["operations"]!["Release"]!["x-rpcgen"]!["kind"]);

        var events = RpcAsyncApi.CreateEventsDocument<IOrderEvents>();
        Assert.Equal("shop.orders", (string?)events["x-rpcgen"]!["exchange"]);
        Assert.Equal("topic", (string?)events["x-rpcgen"]!["exchangeType"]);
        Assert.Equal("event", (string?)events["operations"]!["OrderPlaced"]!["x-rpcgen"]!["kind"]);
        Assert.Equal("shop.orders", (string?)events["channels"]!["OrderEvents"]!["address"]);
        Assert.Throws<ArgumentException>(() => RpcAsyncApi.CreateDocument(RpcAsyncApiDescriptors.Events));
    }

    [Fact]
    public async Task Describe_lists_services_methods_faults_events_queues_and_exchanges()
    {
        var result = await CliProcess.RunAsync("", "describe");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Fibonacci: service on queue 'Fibonacci'", result.Stdout);
        Assert.Contains("call    Fib(n: integer) -> integer", result.Stdout);
        Assert.Contains("FibonacciSequence: service on queue 'FibonacciSequence'", result.Stdout);
        Assert.Contains("stream  Sequence(count: integer, delayMs?: integer) -> stream of integer", result.Stdout);
        Assert.Contains("fault Samples.Fibonacci.FibonacciRangeException data {Requested: integer, Limit: integer}", result.Stdout);
        Assert.Contains("one-way Release(sku: string, quantity: integer)", result.Stdout);
        Assert.Contains("shop.stock.dead-letter (failed one-way work)", result.Stdout);
        Assert.Contains("OrderEvents: events on the topic exchange 'shop.orders'", result.Stdout);
        Assert.Contains("event   OrderPlaced(order: {OrderId: string", result.Stdout);
    }

    [Fact]
    public async Task Every_verb_has_help()
    {
        foreach (var verb in new[] { "describe", "call", "stream", "send", "publish", "tail", "dead-letters list", "dead-letters replay", "topology apply", "top" })
        {
            var result = await CliProcess.RunAsync("", [.. verb.Split(' '), "--help"]);
            Assert.True(result.ExitCode == 0, verb + ": " + result);
            Assert.Contains("Usage:", result.Stdout);
            Assert.Contains("--amqp", result.Stdout);
        }
    }

    [Theory]
    [InlineData("Fibonacci.Fob", "3", "unknown method 'Fob' of Fibonacci; it has: Fib.")]
    [InlineData("Fibonaci.Fib", "3", "unknown service 'Fibonaci'")]
    [InlineData("Stock.Reserve", "{\"sku\":\"book\"", "the arguments of Stock.Reserve are not JSON")]
    [InlineData("Stock.Reserve", "{\"sku\":\"book\",\"qty\":2}", "unknown property 'qty' (expected: sku, quantity)")]
    [InlineData("Fibonacci.Fib", "\"thirty\"", "$: expected integer, got string \"thirty\"")]
    [InlineData("Fibonacci.Fib", "{\"n\":30}", "a single parameter travels as its bare value")]
    [InlineData("FibonacciSequence.Sequence", "5", "use rpcgen stream FibonacciSequence.Sequence")]
    [InlineData("Stock.Release", "{\"sku\":\"lamp\",\"quantity\":1}", "use rpcgen send Stock.Release")]
    public async Task Wrong_input_is_refused_before_anything_is_sent(string method, string json, string message)
    {
        // No broker at all: an input error must be found without connecting.
        var result = await CliProcess.RunAsync("", new Uri("amqp://guest:guest@localhost:1/"), "call", method, json);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr);
    }

    [Fact]
    public async Task An_unreachable_broker_is_named_without_its_password()
    {
        var result = await CliProcess.RunAsync("", new Uri("amqp://operator:s3cret-pw@localhost:1/"), "call", "Fibonacci.Fib", "30");
        Assert.True(result.ExitCode == 6, result.ToString());
        Assert.Contains("cannot reach the broker at amqp://localhost:1/ (user operator)", result.Stderr);
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout);
    }
}

/// <summary>An events descriptor to hand to CreateDocument, which describes services only.</summary>
internal static class RpcAsyncApiDescriptors
{
    public static RpcEventsDescriptor Events { get; } = new("OrderEvents", "shop.orders", RpcExchangeType.Topic,
        new RpcMethodDescriptor("OrderPlaced", [new RpcParameterDescriptor("order") { ParameterType = typeof(OrderPlaced) }]));
}
