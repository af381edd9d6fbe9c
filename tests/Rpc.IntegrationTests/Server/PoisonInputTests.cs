using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// Thousands of generated bad requests through the broker: each one with a reply_to gets an error reply with its
/// documented type, nothing is requeued, the server never stops, and a valid call afterwards succeeds.
/// </summary>
public sealed class PoisonInputTests
{
    private const int MaxBody = 64 * 1024;
    private readonly ITestOutputHelper _output;

    public PoisonInputTests(ITestOutputHelper output) => _output = output;

    private sealed record BadRequest(string Kind, byte[] Body, string? Type, string? ContentType, bool WithReplyTo, string? ExpectedError);

    [Fact]
    public async Task Generated_bad_requests_get_documented_error_replies_and_never_loop()
    {
        int count = Environment.GetEnvironmentVariable("RPCGEN_FULL") == "1" ? 20_000 : 3_000;
        await using var broker = new TestBroker();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.Server.MaxRequestBodySize = MaxBody), new Calculator());
        using var meter = new ServerMeter(server.Queue);
        var queue = broker.QueueName("calc");
        var random = new Random(20261121);
        var requests = Enumerable.Range(0, count).Select(_ => Generate(random)).ToList();

        await using var raw = await RawAmqp.ConnectAsync();
        var byKind = new Dictionary<string, (int Sent, int AsExpected)>();
        var unexpected = new List<string>();
        foreach (var batch in requests.Chunk(64))
        {
            var replies = await Task.WhenAll(batch.Select(async request =>
            {
                if (!request.WithReplyTo)
                {
                    await raw.Channel.BasicPublishAsync("", queue, mandatory: false,
                        new BasicProperties { Type = request.Type, ContentType = request.ContentType }, request.Body);
                    return (request, (RawReply?)null);
                }

                return (request, await raw.CallAsync(queue, request.Body, request.Type, request.ContentType));
            }));

            foreach (var (request, reply) in replies)
            {
                bool asExpected = reply is null || (reply.Status == "error" && reply.ErrorType == request.ExpectedError);
                if (!asExpected && unexpected.Count < 10) unexpected.Add($"{request.Kind}: {reply?.Status} {reply?.Text}");
                var (sent, ok) = byKind.GetValueOrDefault(request.Kind);
                byKind[request.Kind] = (sent + 1, ok + (asExpected ? 1 : 0));
            }
        }

        foreach (var (kind, (sent, ok)) in byKind.OrderBy(k => k.Key)) _output.WriteLine($"{kind,-24} sent {sent,5}  handled as documented {ok,5}");
        Assert.Empty(unexpected);

        // Every request was taken once and acked; none is waiting or redelivered; the server still answers.
        for (int i = 0; i < 100 && server.Served < count; i++) await Task.Delay(20);
        Assert.Equal(count, server.Served);
        var calc = (await broker.ConnectAsync()).CreateClient<ICalculator>();
        Assert.Equal(5, await calc.AddAsync(2, 3));
        Assert.Equal(count + 1, server.Served);
        // Served is counted before a delivery is settled, and a delivery left unacked is not "ready" while the server is
        // connected. So: every one settled, then the server gone (unacked deliveries would come back), then none ready.
        await Wait.UntilAsync(() => meter.Settled == count + 1, $"all {count + 1} deliveries settled (settled: {meter.Settled})");
        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(queue));
    }

    private static BadRequest Generate(Random random)
    {
        string Json(string text) => text;
        byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
        switch (random.Next(12))
        {
            case 0:
            {
                var valid = $$"""{"a": {{random.Next()}}, "b": {{random.Next()}}}""";
                var cut = valid[..random.Next(1, valid.Length - 1)];
                return new("invalid JSON", Utf8(cut), "Add", null, true, "rpc:bad-request");
            }
            case 1:
            {
                var bytes = new byte[random.Next(1, 200)];
                random.NextBytes(bytes);
                bytes[0] = (byte)'{'; // random bytes that start like JSON and are not
                return new("random bytes", bytes, "Add", "application/json", true, "rpc:bad-request");
            }
            case 2:
            {
                var value = random.Next(4) switch { 0 => "\"seven\"", 1 => "[1,2]", 2 => "{}", _ => "1.5" };
                return new("wrong JSON type", Utf8(Json($$"""{"a": {{value}}, "b": 1}""")), "Add", null, true, "rpc:bad-request");
            }
            case 3:
                return new("missing property", Utf8(random.Next(2) == 0 ? """{"a": 1}""" : """{"b": 2}"""), "Add", null, true, "rpc:bad-request");
            case 4:
                return new("extra property", Utf8($$"""{"a": 1, "b": 2, "x{{random.Next(100)}}": 3}"""), "Add", null, true, "rpc:bad-request");
            case 5:
                return random.Next(2) == 0
                    ? new("null for non-nullable", Utf8("""{"point": null, "dx": 1, "dy": 1}"""), "Move", null, true, "rpc:bad-request")
                    : new("null for non-nullable", Utf8("""{"a": null, "b": 1}"""), "Add", null, true, "rpc:bad-request");
            case 6:
                return new("unknown type", Utf8("1"), "Nope" + random.Next(1000), null, true, "rpc:unknown-method");
            case 7:
                return new("missing reply_to", Utf8("{oops"), "Add", null, false, null);
            case 8:
            {
                // A JSON string with bytes that are not UTF-8.
                var body = new List<byte>(Utf8("\"ab"));
                body.Add((byte)(0xC0 | random.Next(2)));
                body.Add((byte)random.Next(0x00, 0x7F));
                body.AddRange(Utf8("\""));
                return new("invalid UTF-8", body.ToArray(), "Echo", null, true, "rpc:bad-request");
            }
            case 9:
                return new("wrong content_type", Utf8("""{"a": 1, "b": 2}"""), "Add",
                    random.Next(2) == 0 ? "application/xml" : "application/x-protobuf", true, "rpc:unsupported-content-type");
            case 10:
                return new("empty body", Array.Empty<byte>(), random.Next(2) == 0 ? "Add" : "Move", null, true, "rpc:bad-request");
            default:
            {
                var big = new StringBuilder("[");
                while (big.Length <= MaxBody) big.Append("1.0,");
                big.Append("1.0]");
                return new("over the size limit", Utf8(big.ToString()), "sum", null, true, "rpc:too-large");
            }
        }
    }
}
