using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Reliability;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A raw RabbitMQ.Client peer sends bodies no RpcGen client would: text that is not text where the server reads a name.
/// Every body the server cannot read is a bad request, answered or dead-lettered at once, never a handler failure.
/// </summary>
public sealed class UntrustedInputTests
{
    // {"a":1,"b":2,"<FF>x":3}: a property name whose bytes are not UTF-8.
    private static readonly byte[] s_invalidUtf8Name = [.. "{\"a\":1,\"b\":2,\""u8, 0xFF, (byte)'x', .. "\":3}"u8];

    [Theory]
    [InlineData("invalid UTF-8 bytes")]
    [InlineData("a lone surrogate escape")]
    public async Task A_request_naming_an_unknown_argument_that_is_not_text_is_answered_as_a_bad_request(string kind)
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        await using var raw = await RawAmqp.ConnectAsync();
        var body = kind == "invalid UTF-8 bytes" ? s_invalidUtf8Name : Encoding.UTF8.GetBytes("{\"a\":1,\"b\":2,\"\\ud800\":3}");

        var reply = await raw.CallAsync(broker.QueueName("calc"), body, "Add");

        Assert.Equal("error", reply.Status);
        Assert.Equal("rpc:bad-request", reply.ErrorType);
        Assert.Contains("ethod 'Add'", reply.ErrorMessage);
    }

    [Fact]
    public async Task One_way_work_naming_an_argument_in_invalid_UTF8_is_dead_lettered_at_once_as_a_bad_request_not_retried()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 3;
            o.Server.RetryBackoff = TimeSpan.Zero;
        });
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);
        await using var raw = await RawAmqp.ConnectAsync();
        byte[] body = [.. "{\"id\":1,\"failures\":0,\""u8, 0xFF, (byte)'y', .. "\":3}"u8];

        await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: true, new BasicProperties { Type = "Flaky" }, body);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "the unreadable work was dead-lettered", seconds: 20);

        Assert.Equal(0, server.Retried);
        Assert.Empty(work.RunsOf("Flaky"));
        var dead = (await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true))!;
        Assert.Equal("rpc:bad-request", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["rpc-error-type"]!));
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public async Task A_deadline_header_outside_any_date_is_read_as_no_deadline_and_the_call_is_answered(long deadline)
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        await using var raw = await RawAmqp.ConnectAsync();

        var reply = await raw.CallAsync(broker.QueueName("calc"), """{"a":2,"b":3}""", "Add",
            headers: new Dictionary<string, object?> { ["rpc-deadline"] = deadline });

        Assert.True(reply.Status != "error", reply.Text);
        Assert.Equal("5", reply.Text);
    }

    [Fact]
    public async Task A_deadline_further_away_than_a_timer_can_wait_leaves_the_handler_a_token_that_never_fires_by_itself()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        await using var raw = await RawAmqp.ConnectAsync();
        // 60 days: past the longest wait a CancellationTokenSource timer takes (about 49.7 days).
        long deadline = DateTimeOffset.UtcNow.AddDays(60).ToUnixTimeMilliseconds();

        var reply = await raw.CallAsync(broker.QueueName("calc"), """{"milliseconds":10}""", "Slow",
            headers: new Dictionary<string, object?> { ["rpc-deadline"] = deadline });

        Assert.True(reply.Status != "error", reply.Text);
        Assert.Equal("10", reply.Text);
    }

    [Fact]
    public async Task Runtime_headers_of_any_AMQP_type_are_answered_and_log_no_error()
    {
        var logs = new LogCapture();
        await using var broker = new TestBroker();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.LoggerFactory = logs), new Calculator());
        await using var raw = await RawAmqp.ConnectAsync();
        var names = new[] { "rpc-deadline", "rpc-retries", "rpc-replays", "rpc-original-user", "rpc-routing-key", "rpc-exchange",
            "rpc-error-type", "traceparent", "tracestate" };
        var values = new object?[]
        {
            null, "text", new byte[] { 0xFF, 0xFE }, int.MinValue, long.MaxValue, -1.5, 3.25m, true, new List<object?> { 1, "x" },
            new Dictionary<string, object?> { ["k"] = new byte[] { 0xC0 } }, new AmqpTimestamp(long.MaxValue),
        };

        foreach (var name in names)
        {
            foreach (var value in values)
            {
                // A 32-bit rpc-deadline is a date in 1969 or 1970: refused unrun as late, rightly.
                if (name == "rpc-deadline" && value is int) continue;
                var reply = await raw.CallAsync(broker.QueueName("calc"), """{"a":2,"b":3}""", "Add",
                    headers: new Dictionary<string, object?> { [name] = value });
                Assert.True(reply.Text == "5", $"{name} = {value}: {reply.Text}");
            }
        }

        Assert.Empty(logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).Select(e => e.Message));
    }
}
