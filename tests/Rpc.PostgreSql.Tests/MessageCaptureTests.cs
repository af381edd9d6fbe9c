using System.Diagnostics;
using System.Text;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.PostgreSql.TestApp;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>
/// The runtime's capture seam the outbox stands on (RpcMessageCapture, RpcConnection.PublishAsync): what a captured
/// message holds, with a sink in memory and no broker; and what publishing one the process cannot place does.
/// </summary>
public sealed class MessageCaptureTests
{
    // Nothing listens here: capturing never connects.
    private static readonly RpcConnectionOptions s_offline = new() { Uri = new Uri("amqp://guest:guest@127.0.0.1:1/"), QueuePrefix = "cap." };

    [Fact]
    public async Task An_event_and_work_are_captured_as_they_would_be_published_each_with_a_message_id_of_its_own()
    {
        var sink = new MemorySink();
        var capture = new RpcMessageCapture(s_offline);
        await capture.CreatePublisher<IOrderEvents>(sink).OrderPlacedAsync(new OrderPlaced(7, "captured"));
        await capture.CreatePublisher<IOrderEvents>(sink).OrderPlacedAsync(new OrderPlaced(8, "captured"));
        await capture.CreateClient<IShipping>(sink).ShipAsync(7);

        var (first, second, work) = (sink.Messages[0], sink.Messages[1], sink.Messages[2]);
        Assert.True(first.IsEvent);
        Assert.Equal("cap.outbox.orders", first.Exchange);
        Assert.Equal("OrderPlaced", first.RoutingKey);
        Assert.Equal("OrderEvents", first.Service);
        Assert.Equal("OrderPlaced", first.Method);
        Assert.Equal("application/json", first.ContentType);
        Assert.True(first.Persistent);
        Assert.Contains("\"OrderId\":7", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Matches("^[0-9a-f]{32}$", first.MessageId);
        Assert.NotEqual(first.MessageId, second.MessageId);

        Assert.False(work.IsEvent);
        Assert.Equal("", work.Exchange);
        Assert.Equal("cap.outbox.shipping", work.RoutingKey);
        Assert.Equal("Ship", work.Method);
        Assert.Equal("7", Encoding.UTF8.GetString(work.Body.Span));
    }

    [Fact]
    public async Task A_captured_message_carries_the_trace_context_it_was_captured_in()
    {
        var sink = new MemorySink();
        using var activity = new Activity("placing an order").SetIdFormat(ActivityIdFormat.W3C).Start();
        await new RpcMessageCapture(s_offline).CreatePublisher<IOrderEvents>(sink).OrderPlacedAsync(new OrderPlaced(1, "traced"));
        Assert.Equal(activity.Id, sink.Messages[0].Headers!["traceparent"]);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_and_a_method_with_a_reply_are_refused_and_nothing_is_captured()
    {
        var sink = new MemorySink();
        var capture = new RpcMessageCapture(new RpcConnectionOptions { Uri = s_offline.Uri, MaxMessageSize = 64 });
        await Assert.ThrowsAsync<RpcMessageTooLargeException>(() =>
            capture.CreatePublisher<IOrderEvents>(sink).OrderPlacedAsync(new OrderPlaced(1, new string('x', 100))));
        await Assert.ThrowsAsync<NotSupportedException>(() => capture.CreateClient<IShipping>(sink).CountAsync());
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task Publishing_a_message_of_a_contract_this_process_does_not_have_fails_and_names_it()
    {
        await using var broker = new TestBroker();
        var connection = await broker.ConnectAsync();
        var message = new RpcOutgoingMessage("NoSuchService", "Nothing", isEvent: false, "", broker.QueueName("nowhere"), "m-1", "{}"u8.ToArray());
        var failure = await Assert.ThrowsAsync<RpcException>(() => connection.PublishAsync(message));
        Assert.Equal(RpcStatusCode.Unimplemented, failure.StatusCode);
        Assert.Contains("NoSuchService.Nothing", failure.Message);
        Assert.Contains("m-1", failure.Message);
    }

    private sealed class MemorySink : IRpcMessageSink
    {
        public List<RpcOutgoingMessage> Messages { get; } = new();

        public ValueTask CaptureAsync(RpcOutgoingMessage message, CancellationToken cancellationToken)
        {
            Messages.Add(message);
            return ValueTask.CompletedTask;
        }
    }
}
