using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>
/// A string argument sent as text, as the tutorials' producers send it (docs/wire-format.md, "Text bodies"): with
/// <c>text/plain</c> the body is the text; without a content type, a body that is not a JSON string, <c>null</c> or the
/// named form is the text; <c>application/json</c> is JSON. Invalid UTF-8 is refused, never read with replacements.
/// </summary>
public sealed class TextBodyTests
{
    public static TheoryData<string?, string, string> Bodies => new()
    {
        { "text/plain", "Hello World...", "Hello World..." },
        { "text/plain; charset=utf-8", "Grüße ✓", "Grüße ✓" },
        { "TEXT/PLAIN", "\"quoted\"", "\"quoted\"" },
        { "text/plain", "", "" },
        { null, "Hello World...", "Hello World..." },
        { null, "42", "42" },
        { null, "{\"other\": 1}", "{\"other\": 1}" },
        { null, "\"a\" b", "\"a\" b" },
        { null, "\"json\"", "json" },
        { null, "{\"text\": \"named\"}", "named" },
        { "application/json", "\"json\"", "json" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_string_argument_is_read_as_text_or_as_JSON_by_the_content_type_and_body(string? contentType, string body, string expected)
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await using var server = await broker.ServeAsync<ITextEcho>(rpc, new TextEcho());
        await using var raw = await RawAmqp.ConnectAsync();

        var reply = await raw.CallAsync(server.Queue, body, contentType: contentType);
        Assert.Null(reply.Status);
        Assert.Equal(expected, System.Text.Json.JsonSerializer.Deserialize<string>(reply.Body));
    }

    public static TheoryData<string?, byte[]> Refused => new()
    {
        { "application/json", Encoding.UTF8.GetBytes("Hello World...") },
        { "text/plain", [0x48, 0xFF, 0xFE] },
        { null, [0xC3, 0x28] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task JSON_that_is_not_JSON_and_text_that_is_not_UTF8_are_bad_requests(string? contentType, byte[] body)
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await using var server = await broker.ServeAsync<ITextEcho>(rpc, new TextEcho());
        await using var raw = await RawAmqp.ConnectAsync();

        var reply = await raw.CallAsync(server.Queue, body, contentType: contentType);
        Assert.Equal("error", reply.Status);
        Assert.Equal("rpc:bad-request", reply.ErrorType);
    }

    [Fact]
    public async Task One_way_text_that_is_not_UTF8_is_dead_lettered_as_a_bad_request_and_the_next_task_runs()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var tasks = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var server = await broker.ServeAsync<ITutorialTasks>(rpc, new Tasks(tasks));
        await using var raw = await RawAmqp.ConnectAsync();

        var persistent = new BasicProperties { Persistent = true, ContentType = "text/plain" };
        await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: false, persistent, new byte[] { 0x48, 0xC0, 0xAF });
        await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: false, persistent, Encoding.UTF8.GetBytes("Hello World."));

        await Wait.UntilAsync(() => server.DeadLettered == 1 && tasks.Count == 1, $"dead-lettered {server.DeadLettered}, ran {tasks.Count}");
        Assert.Equal(["Hello World."], tasks);
        var deadLetter = await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true);
        Assert.NotNull(deadLetter);
        Assert.Equal(new byte[] { 0x48, 0xC0, 0xAF }, deadLetter.Body.ToArray());
        Assert.Equal("rpc:bad-request", Encoding.UTF8.GetString((byte[])deadLetter.BasicProperties.Headers!["rpc-error-type"]!));
    }

    private sealed class TextEcho : ITextEcho
    {
        public Task<string> EchoAsync(string text) => Task.FromResult(text);
    }

    private sealed class Tasks(System.Collections.Concurrent.ConcurrentQueue<string> received) : ITutorialTasks
    {
        public Task TaskAsync(string message)
        {
            received.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}

/// <summary>One string in, the same string out: what the server read the body as.</summary>
[RpcService(Queue = "text-echo")]
internal interface ITextEcho
{
    Task<string> EchoAsync(string text);
}
