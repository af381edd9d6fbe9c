using RabbitMQ.Client;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>[RpcFault] exceptions reach the caller as themselves, with their properties; undeclared ones stay RpcRemoteException.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class TypedFaultTests
{
    [Fact]
    public async Task A_declared_fault_is_rethrown_as_itself_with_its_properties_and_logged_as_expected_on_both_sides()
    {
        await using var broker = new TestBroker();
        var serverLogs = new CapturingLoggerFactory();
        var clientLogs = new CapturingLoggerFactory();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.LoggerFactory = serverLogs), new Shop());
        var shop = (await broker.ConnectAsync(o => o.LoggerFactory = clientLogs)).CreateClient<IShop>();

        Assert.Equal(3, await shop.ReserveAsync("apple", 3));
        var e = await Assert.ThrowsAsync<OutOfStockException>(() => shop.ReserveAsync("pear", 9));
        Assert.Equal("pear", e.Sku);
        Assert.Equal(9, e.Requested);
        Assert.Equal(5, e.Available);
        Assert.Equal("Only 5 of pear left; 9 requested.", e.Message);

        // Declared on the service: every method may throw it; an init-only property travels too.
        var refused = await Assert.ThrowsAsync<NotAllowedException>(() => shop.ReserveAsync("forbidden", 1));
        Assert.Equal("not for you", refused.Message);
        Assert.Equal("guest", refused.User);

        // Information, no stack trace, on the server; information on the client; never the error/warning events.
        await Interop.Wait.UntilAsync(() => serverLogs.Events.Count(l => l.EventId == RpcLogEvents.DeclaredFaultReturned) == 2, "the server logged its faults");
        Assert.All(serverLogs.Events.Where(l => l.EventId == RpcLogEvents.DeclaredFaultReturned), l =>
        {
            Assert.Equal(LogLevel.Information, l.Level);
            Assert.Null(l.Exception);
        });
        Assert.DoesNotContain(serverLogs.Events, l => l.EventId == RpcLogEvents.HandlerFailed);
        Assert.Equal(2, clientLogs.Events.Count(l => l.EventId == RpcLogEvents.CallFaulted && l.Level == LogLevel.Information));
        Assert.DoesNotContain(clientLogs.Events, l => l.EventId == RpcLogEvents.CallFailed);
    }

    [Fact]
    public async Task An_undeclared_exception_stays_RpcRemoteException_and_is_logged_as_an_error()
    {
        await using var broker = new TestBroker();
        var serverLogs = new CapturingLoggerFactory();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.LoggerFactory = serverLogs), new Shop());
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => shop.BreakAsync());
        Assert.Equal("System.InvalidOperationException", e.RemoteType);
        Assert.Equal("broken", e.RemoteMessage);
        await Interop.Wait.UntilAsync(() => serverLogs.Events.Any(l => l.EventId == RpcLogEvents.HandlerFailed && l.Level == LogLevel.Error), "the server logged the failure");
    }

    [Fact]
    public async Task The_error_reply_of_a_declared_fault_carries_type_message_and_a_data_object_of_its_properties()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        await using var peer = await RawAmqp.ConnectAsync();

        var reply = await peer.CallAsync(broker.QueueName("shop"), """{"sku": "pear", "quantity": 9}""", type: "Reserve");
        Assert.Equal("error", reply.Headers["rpc-status"]);
        using var body = JsonDocument.Parse(reply.Body);
        var root = body.RootElement;
        Assert.Equal("RpcGen.IntegrationTests.Shapes.Faults.OutOfStockException", root.GetProperty("type").GetString());
        Assert.Equal("Only 5 of pear left; 9 requested.", root.GetProperty("message").GetString());
        var data = root.GetProperty("data");
        Assert.Equal("pear", data.GetProperty("Sku").GetString());
        Assert.Equal(9, data.GetProperty("Requested").GetInt32());
        Assert.Equal(5, data.GetProperty("Available").GetInt32());
        Assert.False(root.TryGetProperty("detail", out _));

        // An undeclared exception has no data.
        var broken = await peer.CallAsync(broker.QueueName("shop"), "", type: "Break");
        using var brokenBody = JsonDocument.Parse(broken.Body);
        Assert.False(brokenBody.RootElement.TryGetProperty("data", out _));
    }

    [Fact]
    public async Task A_reply_naming_an_undeclared_type_is_never_built_as_that_type()
    {
        // A server (here a hand-made one) that names some other exception type in "type": the client only ever builds
        // the method's declared faults, so this stays an RpcRemoteException.
        await using var broker = new TestBroker();
        var queue = broker.QueueName("shop");
        await using var raw = await RawAmqp.ConnectAsync();
        await raw.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var consumer = new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(raw.Channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var properties = new RabbitMQ.Client.BasicProperties
            {
                CorrelationId = delivery.BasicProperties.CorrelationId,
                Headers = new Dictionary<string, object?> { ["rpc-status"] = "error" },
            };
            var body = """{"type": "RpcGen.IntegrationTests.Shapes.Faults.NotAllowedException", "message": "named but not declared on Reserve? it is (service-level)", "data": {"User": "x"}}"""u8.ToArray();
            if (delivery.BasicProperties.Type == "Hold")
            {
                body = """{"type": "System.IO.FileNotFoundException", "message": "not declared", "data": {"FileName": "/etc/passwd"}}"""u8.ToArray();
            }

            await raw.Channel.BasicPublishAsync("", delivery.BasicProperties.ReplyTo!, false, properties, body);
        };
        await raw.Channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => shop.HoldAsync(1));
        Assert.Equal("System.IO.FileNotFoundException", e.RemoteType);
        var declared = await Assert.ThrowsAsync<NotAllowedException>(() => shop.ReserveAsync("x", 1));
        Assert.Equal("x", declared.User);
        await raw.Channel.QueueDeleteAsync(queue);
    }
}
