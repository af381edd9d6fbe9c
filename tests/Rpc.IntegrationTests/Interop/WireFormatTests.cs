using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.IntegrationTests.Infrastructure;
using Samples.Fibonacci;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// What RpcGen puts on the wire, seen by a plain RabbitMQ.Client peer: every property, header and body rule that
/// docs/wire-format.md promises, for requests and for replies, including each error type the runtime produces.
/// </summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task RpcGen_requests_carry_the_documented_properties_and_bodies_and_plain_replies_complete_them()
    {
        await using var broker = new TestBroker();
        await using var peer = await WirePeer.ConnectAsync();
        var calcQueue = broker.QueueName("calc");
        var auditQueue = broker.QueueName("audit");
        var requests = await peer.CaptureAsync(calcQueue, auditQueue);
        var rpc = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(7.5));
        var calc = rpc.CreateClient<ICalculator>();

        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var add = calc.AddAsync(40, 2);
        var sum = calc.SumAsync(new[] { 1.5, 2 }).AsTask();
        var reset = calc.ResetAsync();
        var echo = calc.EchoAsync(null);
        await rpc.CreateClient<IAuditTrail>().RecordAsync("one way");
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await Wait.UntilAsync(() => requests.Count == 5, $"{requests.Count} of 5 requests arrived");
        var byType = requests.ToDictionary(r => r.Properties.Type!);

        foreach (var type in new[] { "Add", "sum", "Reset", "Echo" })
        {
            var request = byType[type];
            Assert.Equal(calcQueue, request.RoutingKey);
            Assert.Equal("", request.Exchange);
            // Its own server-named queue: the broker user here may declare one (ReplyQueueTests covers direct reply-to).
            Assert.StartsWith("amq.gen-", request.Properties.ReplyTo);
            Assert.False(string.IsNullOrEmpty(request.Properties.CorrelationId));
            Assert.Equal("application/json", request.Properties.ContentType);
            Assert.Equal("7500", request.Properties.Expiration);
            Assert.False(request.Properties.Persistent);
            Assert.Equal(TestBroker.Uri.UserInfo.Split(':')[0], request.Properties.UserId);
            var deadline = Assert.IsType<long>(Assert.Single(request.Properties.Headers!, h => h.Key == "rpc-deadline").Value);
            Assert.InRange(deadline, before + 7500, after + 7500);
        }

        Assert.Equal(4, requests.Where(r => r.Properties.ReplyTo is not null).Select(r => r.Properties.CorrelationId).Distinct().Count());
        Assert.Equal("""{"a":40,"b":2}""", byType["Add"].Text);   // two or more parameters: an object keyed by name
        Assert.Equal("[1.5,2]", byType["sum"].Text);               // one parameter: its JSON value; the [RpcMethod] name in type
        Assert.Equal("", byType["Reset"].Text);                    // no parameters: empty body
        Assert.Equal("null", byType["Echo"].Text);

        var oneWay = byType["Record"];
        Assert.Equal(auditQueue, oneWay.RoutingKey);
        Assert.Null(oneWay.Properties.ReplyTo);
        Assert.Null(oneWay.Properties.CorrelationId);
        Assert.Null(oneWay.Properties.Expiration);   // durable work: no expiration unless a time-to-live is set
        Assert.True(oneWay.Properties.Persistent);
        Assert.Equal("application/json", oneWay.Properties.ContentType);
        Assert.False(oneWay.Properties.Headers?.ContainsKey("rpc-deadline") ?? false);
        Assert.Equal("\"one way\"", oneWay.Text);

        // Replies with nothing but the correlation id count as success (a plain server needs no header).
        await peer.ReplyAsync(byType["Add"], "42");
        await peer.ReplyAsync(byType["sum"], "3.5");
        await peer.ReplyAsync(byType["Reset"], "");
        await peer.ReplyAsync(byType["Echo"], "null");
        Assert.Equal(42, await add);
        Assert.Equal(3.5, await sum);
        await reset;
        Assert.Null(await echo);

        // rpc-status: error with the documented body becomes an RpcRemoteException.
        var failing = calc.AddAsync(1, 1);
        await Wait.UntilAsync(() => requests.Count == 6, "the sixth request did not arrive");
        await peer.ReplyAsync(requests.Last(), """{"type": "python:ValueError", "message": "no adding today"}""", status: "error");
        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => failing);
        Assert.Equal("python:ValueError", e.RemoteType);
        Assert.Equal("no adding today", e.RemoteMessage);
    }

    [Fact]
    public async Task The_pika_json_client_sends_what_the_document_says_a_client_sends()
    {
        await using var broker = new TestBroker();
        await using var peer = await WirePeer.ConnectAsync();
        var queue = broker.QueueName("captured");
        var requests = await peer.CaptureAsync(queue);

        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using (var client = PythonScript.Start("json_client.py", "--amqp", TestBroker.Uri.ToString(), "--timeout", "1.5",
                         queue, "Add", """{"a": 40, "b": 2}"""))
        {
            Assert.Equal(1, await client.WaitForExitAsync(TimeSpan.FromSeconds(30))); // nobody answers the captured request
        }

        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var request = Assert.Single(requests);
        Assert.Equal("", request.Exchange);
        Assert.Equal(queue, request.RoutingKey);
        Assert.Equal("Add", request.Properties.Type);
        Assert.Equal("application/json", request.Properties.ContentType);
        Assert.Equal("1500", request.Properties.Expiration);
        Assert.StartsWith("amq.rabbitmq.reply-to.", request.Properties.ReplyTo);
        Assert.False(string.IsNullOrEmpty(request.Properties.CorrelationId));
        // Python's int travels as a 64-bit integer, the type an RpcGen server reads as a deadline.
        var deadline = Assert.IsType<long>(request.Properties.Headers!["rpc-deadline"]);
        Assert.InRange(deadline, before + 1500, after + 1500);
        Assert.Equal("""{"a": 40, "b": 2}""", request.Text);
    }

    [Fact]
    public async Task RpcGen_replies_carry_the_documented_properties_for_results_and_for_every_runtime_error_type()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.MaxRequestBodySize = 100);
        var calc = await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        var errors = await broker.ServeAsync<IErrorShowcase>(rpc, new ErrorShowcase());
        var fibonacci = await broker.ServeAsync<IFibonacci>(rpc, new FibonacciService());
        await using var peer = await WirePeer.ConnectAsync();

        var ok = await peer.CallAsync(calc.Queue, "Add", """{"a": 40, "b": 2}""", "application/json");
        // A success carries no header table at all: only an error reply says rpc-status.
        Assert.Null(ok.Properties.Headers);
        Assert.Equal("application/json", ok.Properties.ContentType);
        Assert.Equal("42", ok.Text);
        Assert.Equal("", (await peer.CallAsync(calc.Queue, "Reset", "")).Text);
        Assert.Equal("34", (await peer.CallAsync(fibonacci.Queue, null, "9", "text/plain")).Text);
        Assert.Equal("34", (await peer.CallAsync(fibonacci.Queue, null, "9", "application/json; charset=utf-8")).Text);

        await AssertErrorAsync(peer.CallAsync(calc.Queue, "Add", "{not json"), "rpc:bad-request");
        await AssertErrorAsync(peer.CallAsync(fibonacci.Queue, null, new byte[] { 0xFF, 0xFE, 0x39 }), "rpc:bad-request");
        await AssertErrorAsync(peer.CallAsync(calc.Queue, "Reset", "[1]"), "rpc:bad-request");
        await AssertErrorAsync(peer.CallAsync(calc.Queue, "Multiply", """{"a": 6, "b": 7}"""), "rpc:unknown-method");
        await AssertErrorAsync(peer.CallAsync(calc.Queue, null, """{"a": 6, "b": 7}"""), "rpc:unknown-method");
        await AssertErrorAsync(peer.CallAsync(calc.Queue, "sum", "[" + string.Join(",", Enumerable.Repeat("1", 60)) + "]"), "rpc:too-large");
        await AssertErrorAsync(peer.CallAsync(calc.Queue, "Add", "<a>1</a><b>2</b>", "application/xml"), "rpc:unsupported-content-type");
        await AssertErrorAsync(peer.CallAsync(errors.Queue, "Unwritable", ""), "rpc:server-error");
        long oneMinuteAgo = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        await AssertErrorAsync(peer.CallAsync(errors.Queue, "Throw", "\"never run\"", deadline: oneMinuteAgo), "rpc:deadline-exceeded");
        var thrown = await AssertErrorAsync(peer.CallAsync(errors.Queue, "Throw", "\"no such key\""), "System.Collections.Generic.KeyNotFoundException");
        Assert.Equal("no such key", thrown.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_request_nobody_took_within_the_call_timeout_expires_in_the_queue_and_is_never_served()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("calc");
        await using (var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            // The queue exists (so the call is routable) but no server consumes it yet.
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        }

        var client = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromMilliseconds(300));
        var calc = client.CreateClient<ICalculator>();
        await Assert.ThrowsAsync<RpcTimeoutException>(() => calc.AddAsync(1, 2));
        // Without the expiration property the request would wait in the queue forever.
        await Wait.UntilAsync(async () => await RawAmqp.ReadyMessagesAsync(queue) == 0, "the expired request is still in the queue");

        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        Assert.Equal(42, await (await broker.ConnectAsync()).CreateClient<ICalculator>().AddAsync(40, 2));
        await Wait.UntilAsync(() => server.Served >= 1, "the server answered nothing");
        Assert.Equal(1, server.Served);
    }

    private static async Task<JsonElement> AssertErrorAsync(Task<Delivery> call, string type)
    {
        var reply = await call;
        Assert.Equal("error", Status(reply));
        Assert.Equal("application/json", reply.Properties.ContentType);
        var body = JsonDocument.Parse(reply.Body).RootElement.Clone();
        Assert.Equal(type, body.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.Equal(new[] { "type", "message" }, body.EnumerateObject().Select(p => p.Name)); // no detail unless the server opts in
        return body;
    }

    private static string? Status(Delivery reply) =>
        reply.Properties.Headers?.TryGetValue("rpc-status", out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;

    public sealed record Delivery(string Exchange, string RoutingKey, IReadOnlyBasicProperties Properties, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    /// <summary>A RabbitMQ.Client peer that knows nothing of RpcGen and keeps every property of what it receives.</summary>
    private sealed class WirePeer : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly Dictionary<string, TaskCompletionSource<Delivery>> _waiting = new();
        private readonly List<string> _declared = new();

        private WirePeer(IConnection connection, IChannel channel)
        {
            _connection = connection;
            _channel = channel;
        }

        public static async Task<WirePeer> ConnectAsync()
        {
            var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            var peer = new WirePeer(connection, channel);
            var replies = new AsyncEventingBasicConsumer(channel);
            replies.ReceivedAsync += (_, e) =>
            {
                TaskCompletionSource<Delivery>? waiter;
                lock (peer._waiting) peer._waiting.Remove(e.BasicProperties.CorrelationId ?? "", out waiter);
                waiter?.TrySetResult(new Delivery(e.Exchange, e.RoutingKey, e.BasicProperties, e.Body.ToArray()));
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync("amq.rabbitmq.reply-to", autoAck: true, replies);
            return peer;
        }

        /// <summary>Declares the queues and collects every request that arrives on them.</summary>
        public async Task<List<Delivery>> CaptureAsync(params string[] queues)
        {
            var captured = new List<Delivery>();
            var consumer = new AsyncEventingBasicConsumer(_channel);
            consumer.ReceivedAsync += (_, e) =>
            {
                lock (captured) captured.Add(new Delivery(e.Exchange, e.RoutingKey, e.BasicProperties, e.Body.ToArray()));
                return Task.CompletedTask;
            };
            foreach (var queue in queues)
            {
                await _channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true);
                await _channel.BasicConsumeAsync(queue, autoAck: true, consumer);
            }

            return captured;
        }

        public async Task ReplyAsync(Delivery request, string body, string? status = null)
        {
            var properties = new BasicProperties { CorrelationId = request.Properties.CorrelationId };
            if (status is not null) properties.Headers = new Dictionary<string, object?> { ["rpc-status"] = status };
            await _channel.BasicPublishAsync("", request.Properties.ReplyTo!, mandatory: false, properties, Encoding.UTF8.GetBytes(body));
        }

        public Task<Delivery> CallAsync(string queue, string? type, string body, string? contentType = null, long? deadline = null) =>
            CallAsync(queue, type, Encoding.UTF8.GetBytes(body), contentType, deadline);

        public async Task<Delivery> CallAsync(string queue, string? type, byte[] body, string? contentType = null, long? deadline = null)
        {
            var correlationId = Guid.NewGuid().ToString();
            var reply = new TaskCompletionSource<Delivery>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiting) _waiting[correlationId] = reply;
            var properties = new BasicProperties { CorrelationId = correlationId, ReplyTo = "amq.rabbitmq.reply-to", Type = type, ContentType = contentType };
            if (deadline is not null) properties.Headers = new Dictionary<string, object?> { ["rpc-deadline"] = deadline.Value };
            await _channel.BasicPublishAsync("", queue, mandatory: false, properties, body);
            var delivery = await reply.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(correlationId, delivery.Properties.CorrelationId);
            return delivery;
        }

        public async ValueTask DisposeAsync()
        {
            await _channel.CloseAsync();
            await _connection.CloseAsync();
            _channel.Dispose();
            _connection.Dispose();
        }
    }
}
