using System.Text.Json;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Evolution;

/// <summary>
/// The evolution rules of docs/wire-format.md ("Contracts that evolve"), against the real broker: two versions of a
/// contract, compiled by the generator at test time, as client and server in every combination. Calls both versions
/// know work both ways; a call only v2 can make fails on a v1 server with an error that names the service, the
/// method and what is missing, never by silently doing something else.
/// </summary>
public sealed class EvolutionMatrixTests
{
    private static readonly Lazy<IContractPeer> s_v1 = new(() => ContractCompiler.Load("Evolution.V1", ContractVersions.V1));
    private static readonly Lazy<IContractPeer> s_v2 = new(() => ContractCompiler.Load("Evolution.V2", ContractVersions.V2));

    private static IContractPeer Peer(string version) => version == "v1" ? s_v1.Value : s_v2.Value;

    public static TheoryData<string, string> Pairs => new() { { "v1", "v1" }, { "v1", "v2" }, { "v2", "v1" }, { "v2", "v2" } };

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task Calls_both_versions_know_work_in_either_direction(string client, string server)
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        await using var served = await Peer(server).ServeAsync(serving);
        broker.Track(broker.QueueName("calc"));
        var calling = await broker.ConnectAsync();

        var results = new Dictionary<string, string>();
        foreach (var call in ContractVersions.V1Calls) results[call] = await Peer(client).CallAsync(calling, call);

        Assert.Equal("3", results["Add(1,2)"]);       // v2's Add(a, b, c = 0) called without c: {"a":1,"b":2}, as v1 sends
        Assert.Equal("-5", results["Neg(5)"]);        // v2's Neg(a, twice = false) called without twice: the bare 5, as v1 sends
        Assert.Equal("5", results["Subtract(7,2)"]);  // v2's MinusAsync keeps the wire name with [RpcMethod("Subtract")]
        // The record's new property: a v1 peer leaves it out and ignores it, a v2 peer reads null when it is missing.
        Assert.Equal((client, server) switch
        {
            ("v1", _) => "tea x4",
            ("v2", "v2") => "tea x4 note=none",
            _ => "tea x4 note=null",
        }, results["Repeat(tea x2)"]);
    }

    [Fact]
    public async Task A_v2_client_gets_what_only_v2_offers_from_a_v2_server()
    {
        await using var broker = new TestBroker();
        await using var served = await s_v2.Value.ServeAsync(await broker.ConnectAsync());
        broker.Track(broker.QueueName("calc"));
        var calling = await broker.ConnectAsync();

        Assert.Equal("6", await s_v2.Value.CallAsync(calling, "Add(1,2,3)"));
        Assert.Equal("-10", await s_v2.Value.CallAsync(calling, "Neg(5,twice)"));
        Assert.Equal("tea x4 note=gift!", await s_v2.Value.CallAsync(calling, "Repeat(tea x2, note gift)"));
        Assert.Equal("tea x6 note=none", await s_v2.Value.CallAsync(calling, "Repeat(tea x2, times 3)"));
        Assert.Equal("12", await s_v2.Value.CallAsync(calling, "Multiply(3,4)"));
    }

    [Fact]
    public async Task A_v2_client_asking_a_v1_server_for_what_only_v2_offers_gets_an_error_naming_service_method_and_cause()
    {
        await using var broker = new TestBroker();
        await using var served = await s_v1.Value.ServeAsync(await broker.ConnectAsync());
        broker.Track(broker.QueueName("calc"));
        var calling = await broker.ConnectAsync();

        var add = await Assert.ThrowsAsync<RpcRemoteException>(() => s_v2.Value.CallAsync(calling, "Add(1,2,3)"));
        Assert.Equal("rpc:bad-request", add.RemoteType);
        Assert.Equal(("Calc", "Add"), (add.Service, add.Method));
        Assert.Contains("Method 'Add' of service 'Calc' has no parameter 'c'", add.Message);

        // The new argument of a one-parameter method: sent as the named object, which the v1 server reads and refuses.
        var neg = await Assert.ThrowsAsync<RpcRemoteException>(() => s_v2.Value.CallAsync(calling, "Neg(5,twice)"));
        Assert.Equal("rpc:bad-request", neg.RemoteType);
        Assert.Contains("Method 'Neg' of service 'Calc' has no parameter 'twice' (its parameters: 'a')", neg.Message);

        // The same for a one-parameter method whose value is an object: the named form carries "order", so it is not the record.
        var repeat = await Assert.ThrowsAsync<RpcRemoteException>(() => s_v2.Value.CallAsync(calling, "Repeat(tea x2, times 3)"));
        Assert.Equal("rpc:bad-request", repeat.RemoteType);
        Assert.Contains("Method 'Repeat' of service 'Calc' has no parameter 'times' (its parameters: 'order')", repeat.Message);

        var multiply = await Assert.ThrowsAsync<RpcRemoteException>(() => s_v2.Value.CallAsync(calling, "Multiply(3,4)"));
        Assert.Equal("rpc:unknown-method", multiply.RemoteType);
        Assert.Equal(("Calc", "Multiply"), (multiply.Service, multiply.Method));
        Assert.Contains("Service Calc has no method 'Multiply'", multiply.Message);

        // A property the v1 record does not have is not an argument: the v1 server ignores it, as System.Text.Json does.
        Assert.Equal("tea x4 note=null", await s_v2.Value.CallAsync(calling, "Repeat(tea x2, note gift)"));

        // Refusals are answers: the connection and the server go on serving.
        Assert.Equal("3", await s_v2.Value.CallAsync(calling, "Add(1,2)"));
    }

    [Fact]
    public async Task A_pika_client_keeps_calling_a_method_that_gained_an_optional_parameter_with_a_bare_value()
    {
        await using var broker = new TestBroker();
        await using var served = await s_v2.Value.ServeAsync(await broker.ConnectAsync());
        broker.Track(broker.QueueName("calc"));

        var lines = await PythonScript.RunAsync(TimeSpan.FromSeconds(60), "json_client.py",
            "--amqp", TestBroker.Uri.ToString(), broker.QueueName("calc"),
            "Neg", "5",                                           // the v1 body: the bare value
            "Neg", """{"a": 5}""",                                // the named form, with the new argument left out
            "Neg", """{"a": 5, "twice": true}""",                 // the new argument
            "Neg", """{"twice": true}""",                         // an object without 'a' is read as the value of 'a'
            "Add", """{"a": 1, "b": 2}""",                        // v1's two arguments; c takes its default
            "Add", """{"a": 1, "b": 2, "d": 4}""",                // an argument no version has
            "Repeat", """{"Item": "tea", "Quantity": 2}""",       // the v1 body of Repeat(Order order): the record itself
            "Repeat", """{"order": {"Item": "tea", "Quantity": 2}, "times": 3}""");
        var replies = lines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

        Assert.Equal(8, replies.Count);
        Assert.Equal("""{"ok": true, "result": -5}""", replies[0].GetRawText());
        Assert.Equal("""{"ok": true, "result": -5}""", replies[1].GetRawText());
        Assert.Equal("""{"ok": true, "result": -10}""", replies[2].GetRawText());
        Assert.Equal("rpc:bad-request", replies[3].GetProperty("type").GetString());
        Assert.StartsWith("Argument 'a' of method 'Neg' is not a valid Int32", replies[3].GetProperty("message").GetString());
        Assert.Equal("""{"ok": true, "result": 3}""", replies[4].GetRawText());
        Assert.Equal("rpc:bad-request", replies[5].GetProperty("type").GetString());
        Assert.Contains("has no parameter 'd'", replies[5].GetProperty("message").GetString());
        Assert.Equal("""{"Item": "tea", "Quantity": 4, "Note": "none"}""", replies[6].GetProperty("result").GetRawText());
        Assert.Equal("""{"Item": "tea", "Quantity": 6, "Note": "none"}""", replies[7].GetProperty("result").GetRawText());
    }

    [Fact]
    public async Task A_v2_client_calls_the_tutorial_pika_server_with_the_bare_value_it_reads()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("tutorial-fib");
        broker.Track(queue);
        // fib_server.py reads the body with int(body): anything but the bare number would fail it.
        await using var server = PythonScript.Start("fib_server.py",
            "--amqp", TestBroker.Uri.ToString(), "--queue", queue, "--requests", "2", "--seconds", "60");
        await server.WaitForLineAsync("serving " + queue, TimeSpan.FromSeconds(20));
        var rpc = await broker.ConnectAsync();

        Assert.Equal(55, await s_v2.Value.TutorialFibAsync(rpc, 10));
        Assert.Equal(832040, await s_v2.Value.TutorialFibAsync(rpc, 30));
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(new[] { "fib(10) = 55", "fib(30) = 832040" }, server.Output.Where(line => line.StartsWith("fib(", StringComparison.Ordinal)));
    }
}
