using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Reliability;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.IntegrationTests.Client;

/// <summary>
/// Where replies come back (RpcClientOptions.ReplyQueue): a server-named queue of the connection's own when its user may
/// declare one, direct reply-to otherwise; the queue follows the call channel through a rebuild and the connection
/// through a recovery, and nothing is left behind on the broker.
/// </summary>
public sealed class ReplyQueueTests
{
    [Fact]
    public async Task By_default_requests_name_a_classic_exclusive_queue_of_the_connection_and_the_reply_comes_back_through_it()
    {
        await using var broker = new TestBroker();
        await using var capture = await RequestCapture.StartAsync(broker.QueueName("calc"));
        var rpc = await broker.ConnectAsync();
        var call = rpc.CreateClient<ICalculator>().AddAsync(40, 2);

        var request = await capture.NextAsync();
        Assert.StartsWith("amq.gen-", request.ReplyTo);
        Assert.Equal(rpc.Invoker.ReplyTo, request.ReplyTo);
        var queue = Assert.Single(await ReplyQueues.ListAsync(), q => q.Name == request.ReplyTo);
        Assert.Equal(("classic", true, true), (queue.Type, queue.Exclusive, queue.AutoDelete));

        // Exclusive: no other connection may consume it (or delete it, or read its replies).
        var locked = await Assert.ThrowsAsync<OperationInterruptedException>(() => capture.ConsumeFromAnotherConnectionAsync(request.ReplyTo!));
        Assert.Equal(Constants.ResourceLocked, locked.ShutdownReason!.ReplyCode);

        await capture.ReplyAsync(request, "42");
        Assert.Equal(42, await call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task With_DirectReplyTo_requests_name_direct_reply_to_and_the_connection_declares_no_reply_queue()
    {
        await using var broker = new TestBroker();
        await using var capture = await RequestCapture.StartAsync(broker.QueueName("calc"));
        var rpc = await broker.ConnectAsync(o => o.Client.ReplyQueue = RpcReplyQueue.DirectReplyTo);
        var call = rpc.CreateClient<ICalculator>().AddAsync(40, 2);

        var request = await capture.NextAsync();
        Assert.StartsWith("amq.rabbitmq.reply-to.", request.ReplyTo);
        Assert.Equal(WireContract.DirectReplyTo, rpc.Invoker.ReplyTo);
        await capture.ReplyAsync(request, "42");
        Assert.Equal(42, await call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_caller_without_configure_rights_falls_back_to_direct_reply_to_says_so_once_at_Information_and_calls_work()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        // docs/security.md, "Permissions": the caller row, as in 1.0.
        var (_, callerUri) = await users.AddAsync("caller", configure: "^$", write: "^(amq\\.default|rpc-control\\..*)$", read: "^$");
        var logs = new LogCapture();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var caller = await broker.ConnectAsync(o =>
        {
            o.Uri = callerUri;
            o.LoggerFactory = logs;
        });

        Assert.Equal(WireContract.DirectReplyTo, caller.Invoker.ReplyTo);
        Assert.Equal(5, await caller.CreateClient<ICalculator>().AddAsync(2, 3));
        var chosen = Assert.Single(logs.Entries, e => e.EventId == RpcLogEvents.DirectReplyToChosen);
        Assert.Equal(LogLevel.Information, chosen.Level);
        Assert.Contains("403", chosen.Message);
        Assert.Contains("amq[.]gen-", chosen.Message);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(0, caller.Invoker.CallChannel.Rebuilds);
    }

    [Fact]
    public async Task A_caller_that_may_declare_but_not_read_a_reply_queue_falls_back_and_leaves_no_queue_behind()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var (user, callerUri) = await users.AddAsync("declarer", configure: "^amq\\.gen-.*$", write: "^amq\\.default$", read: "^$");
        var logs = new LogCapture();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var caller = await broker.ConnectAsync(o =>
        {
            o.Uri = callerUri;
            o.LoggerFactory = logs;
        });

        Assert.Equal(WireContract.DirectReplyTo, caller.Invoker.ReplyTo);
        Assert.Equal(5, await caller.CreateClient<ICalculator>().AddAsync(2, 3));
        Assert.Contains(logs.Entries, e => e.EventId == RpcLogEvents.DirectReplyToChosen && e.Message.Contains("403"));
        // The queue it could declare but not consume is gone, and the library's recovery no longer knows it.
        Assert.Empty(await ReplyQueues.OwnedByUserAsync(user));
    }

    [Fact]
    public async Task ServerNamedQueue_refused_fails_the_connect_naming_the_permission_and_the_way_out()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var (_, callerUri) = await users.AddAsync("caller", configure: "^$", write: "^amq\\.default$", read: "^$");

        var e = await Assert.ThrowsAsync<RpcConnectionException>(() => broker.ConnectAsync(o =>
        {
            o.Uri = callerUri;
            o.Client.ReplyQueue = RpcReplyQueue.ServerNamedQueue;
        }));
        Assert.Contains("403", e.Message);
        Assert.Contains("configure and read on ^amq\\.gen-.*", e.Message);
        Assert.Contains("ReplyQueue to Automatic or DirectReplyTo", e.Message);
    }

    [Fact]
    public async Task A_call_channel_rebuilt_after_the_grant_was_taken_away_falls_back_to_direct_reply_to_and_calls_work()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var (user, callerUri) = await users.AddAsync("caller", configure: "^amq\\.gen-.*$", write: "^amq\\.default$", read: "^amq\\.gen-.*$");
        var logs = new LogCapture();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var caller = await broker.ConnectAsync(o =>
        {
            o.Uri = callerUri;
            o.LoggerFactory = logs;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(5);
        });
        var calc = caller.CreateClient<ICalculator>();
        Assert.Equal(3, await calc.AddAsync(1, 2));
        Assert.StartsWith("amq.gen-", caller.Invoker.ReplyTo);

        // An operator takes the grant away (the 1.0 caller row); then the broker closes the call channel (an ack of a
        // delivery tag it never sent), so the channel is rebuilt under the new permissions.
        await BrokerUsers.CtlAsync("set_permissions", "-p", BrokerUsers.VirtualHost, user, "^$", "^amq\\.default$", "^$");
        Assert.True(caller.Invoker.CallChannel.TryGetReady(out var channel));
        await channel!.BasicAckAsync(deliveryTag: 999_999, multiple: false);

        Assert.Equal(5, await FirstAnswerAsync(() => calc.AddAsync(2, 3)));
        Assert.Equal(WireContract.DirectReplyTo, caller.Invoker.ReplyTo);
        Assert.Contains(logs.Entries, e => e.EventId == RpcLogEvents.DirectReplyToChosen && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task A_rebuilt_call_channel_and_a_recovered_connection_each_get_a_new_reply_queue_and_leave_exactly_one()
    {
        await using var broker = new TestBroker();
        await using var proxy = new TcpProxy(TestBroker.Uri);
        var name = "reply-queue-" + Guid.NewGuid().ToString("N")[..8];
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), new Calculator());
        var caller = await broker.ConnectAsync(o =>
        {
            o.Uri = proxy.Through(TestBroker.Uri);
            o.ConnectionName = name;
        });
        var calc = caller.CreateClient<ICalculator>();
        Assert.Equal(3, await calc.AddAsync(1, 2));
        var first = caller.Invoker.ReplyTo;
        Assert.Equal([first], await ReplyQueues.OwnedByConnectionAsync(name));

        // The broker closes the call channel (an ack of a delivery tag it never sent: 406): rebuilt with a new queue.
        Assert.True(caller.Invoker.CallChannel.TryGetReady(out var channel));
        await channel!.BasicAckAsync(deliveryTag: 999_999, multiple: false);
        await Wait.UntilAsync(() => caller.Invoker.CallChannel.Rebuilds == 1, "the call channel was rebuilt");
        Assert.Equal(5, await calc.AddAsync(2, 3));
        var second = caller.Invoker.ReplyTo;
        Assert.NotEqual(first, second);
        Assert.Equal([second], await ReplyQueues.OwnedByConnectionAsync(name));

        // The connection drops and is recovered: the library declares the queue afresh, under a new name.
        proxy.DropConnections();
        Assert.Equal(7, await FirstAnswerAsync(() => calc.AddAsync(3, 4)));
        var third = caller.Invoker.ReplyTo;
        Assert.NotEqual(second, third);
        Assert.StartsWith("amq.gen-", third);
        // Only the current queue: neither the one the rebuild replaced nor the one the loss took came back with recovery.
        Assert.Equal([third], await ReplyQueues.OwnedByConnectionAsync(name));
        Assert.Equal(20, (await Task.WhenAll(Enumerable.Range(0, 20).Select(i => calc.AddAsync(i, 1)))).Length);
    }

    /// <summary>Calls until one is answered (while the channel or connection comes back, calls fail), for at most 30 s.</summary>
    private static async Task<int?> FirstAnswerAsync(Func<Task<int>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                return await call();
            }
            catch (RpcException)
            {
                await Task.Delay(100);
            }
        }

        return null;
    }

    /// <summary>Reply queues on the shared node, read with rabbitmqctl.</summary>
    private static class ReplyQueues
    {
        public static async Task<List<(string Name, string Owner, string Type, bool Exclusive, bool AutoDelete)>> ListAsync()
        {
            var output = await BrokerUsers.CtlAsync("list_queues", "-q", "--no-table-headers", "name", "owner_pid", "type", "exclusive", "auto_delete");
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('\t'))
                .Where(f => f.Length == 5 && f[0].StartsWith("amq.gen-", StringComparison.Ordinal))
                .Select(f => (f[0], f[1], f[2], f[3] == "true", f[4] == "true"))
                .ToList();
        }

        /// <summary>The server-named queues whose exclusive owner is the connection named <paramref name="connectionName"/>.</summary>
        public static Task<List<string>> OwnedByConnectionAsync(string connectionName) => OwnedAsync("client_properties", line => line.Contains(connectionName, StringComparison.Ordinal));

        public static Task<List<string>> OwnedByUserAsync(string user) => OwnedAsync("user", line => line.EndsWith("\t" + user, StringComparison.Ordinal));

        private static async Task<List<string>> OwnedAsync(string column, Func<string, bool> matches)
        {
            var connections = await BrokerUsers.CtlAsync("list_connections", "-q", "--no-table-headers", "pid", column);
            var pids = connections.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(matches).Select(line => line.Split('\t')[0]).ToHashSet();
            Assert.NotEmpty(pids);
            return (await ListAsync()).Where(q => pids.Contains(q.Owner)).Select(q => q.Name).ToList();
        }
    }

    /// <summary>A plain AMQP consumer of one queue that hands out the requests arriving there and answers them.</summary>
    private sealed class RequestCapture : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly System.Threading.Channels.Channel<(IReadOnlyBasicProperties Properties, string Body)> _requests =
            System.Threading.Channels.Channel.CreateUnbounded<(IReadOnlyBasicProperties, string)>();

        private RequestCapture(IConnection connection, IChannel channel)
        {
            _connection = connection;
            _channel = channel;
        }

        public static async Task<RequestCapture> StartAsync(string queue)
        {
            var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            var capture = new RequestCapture(connection, channel);
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, e) => capture._requests.Writer.WriteAsync((e.BasicProperties, Encoding.UTF8.GetString(e.Body.Span))).AsTask();
            await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
            return capture;
        }

        public async Task<IReadOnlyBasicProperties> NextAsync() =>
            (await _requests.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Properties;

        public async Task ReplyAsync(IReadOnlyBasicProperties request, string body) =>
            await _channel.BasicPublishAsync("", request.ReplyTo!, mandatory: false, new BasicProperties { CorrelationId = request.CorrelationId },
                Encoding.UTF8.GetBytes(body));

        public async Task ConsumeFromAnotherConnectionAsync(string queue)
        {
            await using var other = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
            await using var channel = await other.CreateChannelAsync();
            await channel.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(channel));
        }

        public async ValueTask DisposeAsync()
        {
            await _channel.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
